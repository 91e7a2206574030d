"""Text pipeline: sources → preprocessing → vectorizing."""
