#!/usr/bin/env bash
# Small deterministic test media for Dubline's tests and examples.
# Usage: testdata/make-media.sh OUTDIR   (needs ffmpeg; espeak-ng optional)
# Adapted from ../shared/design/make-test-media.sh, with a 1280x720 "face"
# video so the clips fit Kling's input limits (sides 720-1920 px, 2-10 s),
# plus files that are deliberately outside them.
set -euo pipefail
out=${1:-media}; mkdir -p "$out"
FF="ffmpeg -hide_banner -loglevel error -y"
BX="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact"
face() { # face SIZE SECONDS -> lavfi graph: a flat background, a face box, two eyes, a mouth that moves
  local w=${1%x*} h=${1#*x} d=$2
  local cx=$((w/2)) cy=$((h/2)) fw=$((h/3)) fh=$((h/2))
  echo "color=c=0x5a6ea0:s=$1:r=12:d=$d,drawbox=x=$((cx-fw/2)):y=$((cy-fh/2)):w=$fw:h=$fh:c=0xe0ac78:t=fill,drawbox=x=$((cx-fw/4)):y=$((cy-fh/5)):w=$((fw/10)):h=$((fw/10)):c=black:t=fill,drawbox=x=$((cx+fw/6)):y=$((cy-fh/5)):w=$((fw/10)):h=$((fw/10)):c=black:t=fill,drawbox=x=$((cx-fw/5)):y=$((cy+fh/5)):w=$((2*fw/5)):h='4+$((fh/12))*abs(sin(6*t))':c=0x602020:t=fill"
}
H264="-c:v libx264 -preset veryfast -crf 40 -pix_fmt yuv420p -g 36 -c:a aac -b:a 24k -ac 1 -shortest"
video() { # video NAME SIZE SECONDS [extra args]
  local name=$1 size=$2 d=$3; shift 3
  $FF -f lavfi -i "$(face "$size" "$d")" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$d" \
    -map 0:v -map 1:a $H264 "$@" $BX "$out/$name"
}
video face.mp4 1280x720 3 -movflags +faststart
video face.mov 1280x720 3 -movflags +faststart
video face_moov_end.mp4 1280x720 3                 # moov after mdat: probes must read the tail
video face_12s.mp4 1280x720 12 -movflags +faststart # over the classic 10 s: a warning
video face_600.mp4 600x600 3 -movflags +faststart   # under the classic 720 px: a warning
video face_small.mp4 320x240 3 -movflags +faststart # under 512 px: an error
$FF -f lavfi -i "$(face 1280x720 3)" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=3" \
  -map 0:v -map 1:a -c:v libvpx -b:v 60k -crf 40 -deadline good -cpu-used 5 -g 36 -c:a libopus -b:a 16k -ac 1 -shortest $BX "$out/face.webm"
for d in 1 4.2 5.2 12.5; do
  n=${d/./_}
  SRC="sine=frequency=330:sample_rate=16000:duration=$d"
  $FF -f lavfi -i "$SRC" -ar 8000 -ac 1 -c:a pcm_u8 $BX "$out/tone_${n}s.wav"
  $FF -f lavfi -i "$SRC" -ar 16000 -ac 1 -c:a libmp3lame -b:a 16k $BX "$out/tone_${n}s.mp3"
  $FF -f lavfi -i "$SRC" -ar 16000 -ac 1 -c:a aac -b:a 16k $BX "$out/tone_${n}s.m4a"   # moov at the end
done
for d in 4.2 12.5; do
  n=${d/./_}
  SRC="sine=frequency=330:sample_rate=16000:duration=$d"
  $FF -f lavfi -i "$SRC" -ar 16000 -ac 1 -c:a aac -b:a 16k -f adts $BX "$out/tone_${n}s.aac"
  $FF -f lavfi -i "$SRC" -ar 16000 -ac 1 -c:a libvorbis -q:a -1 $BX "$out/tone_${n}s.ogg"
  $FF -f lavfi -i "$SRC" -ac 1 -c:a libopus -b:a 8k $BX "$out/tone_${n}s.opus"
done
if command -v espeak-ng >/dev/null; then
  espeak-ng -v en-us -s 150 -w "$out/speech_raw.wav" "Hello, this is a test of the dubbing pipeline."
  $FF -i "$out/speech_raw.wav" -af apad -t 4.2 -ar 16000 -ac 1 -c:a aac -b:a 24k $BX "$out/speech_4_2s.m4a"
  $FF -i "$out/speech_raw.wav" -af apad -t 4.2 -ar 16000 -ac 1 -c:a pcm_s16le $BX "$out/speech_4_2s.wav"
  espeak-ng -v es -s 140 -w "$out/speech_raw.wav" "Hola, esta es una prueba del doblaje automático."
  $FF -i "$out/speech_raw.wav" -af apad -t 3.6 -ar 16000 -ac 1 -c:a libmp3lame -b:a 24k $BX "$out/speech_es_3_6s.mp3"
  rm "$out/speech_raw.wav"
fi
printf 'this is not media\n' > "$out/not_media.mp4"
head -c 2000 "$out/face.mp4" > "$out/truncated.mp4"
