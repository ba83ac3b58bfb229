#!/usr/bin/python3
"""Rebuilds the QR code sshcert-admin drew on a terminal (Unicode half blocks on a forced
white background) as a PNG, so zbarimg can read it back. Usage: qr-from-terminal.py TRANSCRIPT OUT.png"""
import sys
from PIL import Image

START, END = "\x1b[47;30m", "\x1b[0m"
rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    if START not in line:
        continue
    cells = line.split(START, 1)[1].split(END, 1)[0]
    rows.append([c in "\u2588\u2580" for c in cells])  # upper half dark
    rows.append([c in "\u2588\u2584" for c in cells])  # lower half dark
if not rows:
    sys.exit("no QR code in the transcript")
scale = 8
img = Image.new("L", (len(rows[0]) * scale, len(rows) * scale), 255)
px = img.load()
for y, row in enumerate(rows):
    for x, dark in enumerate(row):
        if dark:
            for dy in range(scale):
                for dx in range(scale):
                    px[x * scale + dx, y * scale + dy] = 0
img.save(sys.argv[2])
