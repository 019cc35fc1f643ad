"""The /kpi command language (SPEC §4): words in, a parsed command (or a specific error) out."""
