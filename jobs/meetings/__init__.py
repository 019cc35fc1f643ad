"""Reviews teams hold besides the weekly digest: the funnel stage by stage, the monthly flywheel."""
