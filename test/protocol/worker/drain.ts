import { FrameDecoder, type Frame } from '../../../src/protocol/worker/decode.js';

/** Every complete frame the decoder holds, in order (the codec tests' reader). */
export function drain(decoder: FrameDecoder): Frame[] {
  const frames: Frame[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  return frames;
}
