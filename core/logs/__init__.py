"""Other tools' training logs (Keras, Lightning, console text, custom CSV) read into a FitLab history."""
