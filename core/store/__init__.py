"""All SQL of FitLab: the run store (`runs`), the Optuna study storage (`studies`), the search's trial slots."""
