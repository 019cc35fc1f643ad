"""The one HTTP server of `kpibot serve`."""
