"""What the step modules share: a wire tap, and one terminal per person running the reference
client (the control plane and the client's time come from `mockportal.testing`). Kept out of
the step files so that behave does not load them as steps, and so every step module uses the
same objects."""
