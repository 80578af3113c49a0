"""FitLab's engine: data -> model -> training -> diagnosis -> charts. No Streamlit here."""
