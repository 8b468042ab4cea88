"""What the step modules share: the portal's control plane, injected time, a wire tap, and
one terminal per person running the reference client. Kept out of the step files so that
behave does not load them as steps, and so every step module uses the same objects."""
