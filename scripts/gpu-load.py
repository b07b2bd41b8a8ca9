# A short bf16 matmul load so the GPU charts have something to show; exits by itself. Needs torch.
import sys, time
try:
    import torch
except Exception as e:
    print("no torch:", e); sys.exit(0)
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 15)
n = 0
while time.time() < end:
    c = a @ b; n += 1
    if n % 50 == 0: torch.cuda.synchronize()
torch.cuda.synchronize(); print("matmuls", n)
