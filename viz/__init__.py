"""Plots and 3D views. Reads results and twins; never writes into them."""
