# g) dropout with keep probability 0.8, no scaling in training: multiply by 0.8 at test time.
assert abs(float(g) - 0.8) <= 0.01 * 0.8, f"g = {g!r}"
