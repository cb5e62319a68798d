# sigmoid_grad_max) sigma'(x) = sigma(x)(1 - sigma(x)) peaks at x = 0 with 1/4.
assert abs(float(sigmoid_grad_max) - 0.25) <= 0.001 * 0.25, f"sigmoid_grad_max = {sigmoid_grad_max!r}"
