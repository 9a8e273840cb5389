"""``python -m bench [--scale N]`` (``make bench``): see bench.run."""

from bench.run import main

main()
