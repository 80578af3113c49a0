"""Files a user takes away: run JSON and CSV, model files, and the predictor that reads them back."""
