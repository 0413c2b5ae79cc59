// Photos are made to fit a village network before upload: longest side at most MAX_SIDE px,
// re-encoded as JPEG. A 12 MP phone photo (4-6 MB) becomes a few hundred KB. PDFs pass as they are.
export const MAX_SIDE = 1600;
const QUALITY = 0.82;

function decode(file) {
  if (typeof createImageBitmap === 'function') return createImageBitmap(file, { imageOrientation: 'from-image' });
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('decode')); };
    img.src = url;
  });
}

/** The file to upload: a resized JPEG for a photo, the file itself otherwise (or if decoding fails). */
export async function prepareForUpload(file) {
  if (!/^image\/(jpeg|png)$/.test(file.type)) return file;
  let img;
  try { img = await decode(file); } catch { return file; }
  const w = img.width;
  const hgt = img.height;
  const scale = Math.min(1, MAX_SIDE / Math.max(w, hgt));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(hgt * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; // a transparent PNG becomes a JPEG on white, not on black
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  if (typeof img.close === 'function') img.close();
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', QUALITY));
  if (!blob) return file;
  // A small JPEG already within bounds stays as it was when re-encoding would not shrink it.
  if (file.type === 'image/jpeg' && scale === 1 && blob.size >= file.size) return file;
  const name = `${file.name.replace(/\.[^.]*$/, '') || 'foto'}.jpg`;
  return new File([blob], name, { type: 'image/jpeg', lastModified: Date.now() });
}
