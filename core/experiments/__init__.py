"""What a user asks for, one module each: a run (`run`), Fix it for me (`fix`), the learning-rate finder, the
learning curve, the time estimate, the baselines a run is judged against, the decision-boundary grid (`surface`)."""
