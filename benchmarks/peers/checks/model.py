# model) make_model() trained by this check as grader trains it: the 3-class spiral (100 training and
# 100 test points per class, noise 0.2, seed 0, generated as grader.kinds.model.datasets does),
# cross-entropy, Adam lr 0.01, batches of 32, 150 epochs; test accuracy >= 0.9, <= 10,000 parameters.
import numpy as np
import torch


def spiral(rng, per_class):
    xs, ys = [], []
    for j in range(3):
        radius = rng.uniform(0.0, 1.0, per_class)
        angle = 4.0 * (j + radius) + rng.standard_normal(per_class) * 0.2
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(per_class, j))
    return torch.as_tensor(np.concatenate(xs), dtype=torch.float32), torch.as_tensor(np.concatenate(ys))


streams = np.random.SeedSequence(0).spawn(3)
x_train, y_train = spiral(np.random.Generator(np.random.PCG64(streams[0])), 100)
x_test, y_test = spiral(np.random.Generator(np.random.PCG64(streams[1])), 100)
_ = torch.manual_seed(0)
net = make_model()
assert isinstance(net, torch.nn.Module), "make_model() must return a torch.nn.Module"
count = sum(p.numel() for p in net.parameters() if p.requires_grad)
assert count <= 10_000, f"{count} parameters"
assert tuple(net(x_train[:4]).shape) == (4, 3), "the output must have shape (N, 3)"
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()
shuffle = torch.Generator().manual_seed(0)
_ = net.train()
for epoch in range(150):
    order = torch.randperm(len(x_train), generator=shuffle)
    for start in range(0, len(x_train), 32):
        index = order[start:start + 32]
        loss = loss_fn(net(x_train[index]), y_train[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
_ = net.eval()
with torch.no_grad():
    accuracy = float((net(x_test).argmax(dim=1) == y_test).float().mean())
assert accuracy >= 0.9, f"test accuracy {accuracy:.3f}"
