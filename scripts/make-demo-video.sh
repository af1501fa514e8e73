#!/usr/bin/env bash
# Regenerates examples/site/media/test-pattern.webm, the demo site's video, and its poster
# test-pattern.jpg (the first frame, shown until the video plays). The video: 8 s of ffmpeg's
# testsrc2 pattern (its burnt-in clock shows where a seek landed) at 320x180, 12 fps, VP9, with a
# 440 Hz beep each second in Opus. A keyframe every second keeps seeks cheap; ~110 KiB in all.
# Needs Debian's ffmpeg (apt-get install ffmpeg). The output is committed; CI never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
out=examples/site/media/test-pattern.webm
mkdir -p "$(dirname "$out")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=320x180:rate=12:duration=8" \
  -f lavfi -i "sine=frequency=440:beep_factor=2:sample_rate=48000:duration=8" \
  -c:v libvpx-vp9 -b:v 0 -crf 50 -g 12 -deadline good -cpu-used 2 -threads 1 \
  -c:a libopus -b:a 24k -ac 1 \
  -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -shortest "$out"
ffmpeg -hide_banner -loglevel error -y -i "$out" -frames:v 1 -q:v 4 -map_metadata -1 \
  -fflags +bitexact -flags:v +bitexact "${out%.webm}.jpg"
ls -l "$out" "${out%.webm}.jpg"
