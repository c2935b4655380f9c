import { parseMimeTree, type MimePart } from '../../message/index.js';

/**
 * MIME trees of recently fetched messages, so that a client fetching ENVELOPE, then
 * BODYSTRUCTURE, then parts of one message parses it once. Messages never change once
 * stored, so an entry is right for as long as it is kept; the key names the folder, its
 * UIDVALIDITY and the UID.
 */
export class MessageCache {
  private readonly trees = new Map<string, MimePart>();

  constructor(private readonly max = 2000) {}

  tree(folderId: number, uidValidity: number, uid: number, data: Buffer): MimePart {
    const key = `${folderId}/${uidValidity}/${uid}`;
    let tree = this.trees.get(key);
    if (tree) {
      // Most recently used last.
      this.trees.delete(key);
    } else {
      tree = parseMimeTree(data);
      if (this.trees.size >= this.max) this.trees.delete(this.trees.keys().next().value!);
    }
    this.trees.set(key, tree);
    return tree;
  }
}
