"""Running nengo_lmu networks on other Nengo backends: `.ocl` (nengo-ocl, OpenCL) and
`.loihi` (nengo-loihi). Each module imports its backend, so import it only when that
backend is installed (``pip install nengo-lmu[ocl]`` or ``[loihi]``)."""
