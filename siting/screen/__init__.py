"""Hard constraints: the rule classes, screening (ledger, funnel, reasons), staged screening, safe filters.

The package holds no code of its own; import its modules (``siting.screen.rules``...).
"""
