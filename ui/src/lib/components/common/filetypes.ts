// What kind of file a name is, for its icon and the Type column.
import { extension } from '../../stores/sorting';

export type Category = 'folder' | 'image' | 'video' | 'audio' | 'pdf' | 'archive' | 'code' | 'text' | 'sheet' | 'doc' | 'slides' | 'disk' | 'other';

const BY_EXT: Record<string, Category> = {};
const add = (cat: Category, exts: string) => exts.split(' ').forEach((e) => (BY_EXT[e] = cat));
add('image', 'jpg jpeg png gif webp heic bmp tiff svg cr3 raw dng');
add('video', 'mp4 mov mkv avi webm m4v');
add('audio', 'mp3 wav flac ogg m4a aac opus');
add('pdf', 'pdf');
add('archive', 'zip rar 7z tar gz zst xz bz2 tgz');
add('code', 'rs js ts py go c h cpp java html css json toml yaml yml lock sh svelte');
add('text', 'txt md csv log rtf');
add('sheet', 'xlsx xls ods parquet');
add('doc', 'docx doc odt pages');
add('slides', 'pptx ppt odp key');
add('disk', 'iso img dmg bin');

export function category(name: string, kind: 'file' | 'folder'): Category {
  if (kind === 'folder') return 'folder';
  return BY_EXT[extension(name)] ?? 'other';
}

const LABEL: Record<Category, string> = {
  folder: 'Folder',
  image: 'Image',
  video: 'Video',
  audio: 'Audio',
  pdf: 'PDF',
  archive: 'Archive',
  code: 'Code',
  text: 'Text',
  sheet: 'Spreadsheet',
  doc: 'Document',
  slides: 'Presentation',
  disk: 'Disk image',
  other: 'File',
};

export function typeLabel(name: string, kind: 'file' | 'folder'): string {
  const cat = category(name, kind);
  const ext = extension(name).toUpperCase();
  if (cat === 'folder') return 'Folder';
  return cat === 'other' ? (ext ? `${ext} file` : 'File') : `${LABEL[cat]}${ext && cat !== 'pdf' ? ` · ${ext}` : ''}`;
}
