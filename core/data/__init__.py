"""Data: reading CSV files (`csvfile`), analysing their columns and building a `Dataset` (`dataset`), built-in sets."""
