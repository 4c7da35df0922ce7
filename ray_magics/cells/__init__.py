"""What happens around a cell that calls actors: which calls it made, and what Stop does to them."""
