# n_params) 2 -> 64 -> 64 -> 3: (2*64 + 64) + (64*64 + 64) + (64*3 + 3) = 4547.
assert float(n_params) == 4547, f"n_params = {n_params!r}"
