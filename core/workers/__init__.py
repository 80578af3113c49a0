"""Where jobs run: the job spec, the job handlers (`jobs`, worker side), the executor seam (`executor`, web side)."""
