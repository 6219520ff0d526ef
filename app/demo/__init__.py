"""The demo distributor: its data (data.py), the pictures it draws (images.py), and the
loading through the services (seed.py, `flask pifa seed-demo`)."""
