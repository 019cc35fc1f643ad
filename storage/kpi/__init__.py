"""KPI maths: formulas, periods, the registry of KPIs and roles, and the engine (SQL aggregation)."""
