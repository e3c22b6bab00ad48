using Dclm.Models;

namespace Dclm.Inference.Engine;

/// <summary>
/// What the scheduler may know and change of the KV pool: block counts and each slot's block table, never the keys
/// and values themselves (sharing a prefix shares blocks; a shared block is copied by the forward step that writes it).
/// </summary>
internal interface IBlockLedger
{
    int BlockSize { get; }
    int FreeBlocks { get; }
    /// <summary>Blocks that growing <paramref name="slot"/> to <paramref name="length"/> positions takes from the pool.</summary>
    int BlocksNeeded(int slot, int length);
    /// <summary>Whether <paramref name="slot"/> still holds every position a continuation from <paramref name="length"/> reads (a rolling cache returns what the window passed).</summary>
    bool CanResume(int slot, int length);
    /// <summary>Makes <paramref name="target"/> hold the first <paramref name="length"/> positions of <paramref name="source"/>, sharing its blocks.</summary>
    void Share(int source, int target, int length);
    /// <summary>Keeps the first <paramref name="length"/> positions of <paramref name="slot"/> and returns the blocks past them (0 empties the slot).</summary>
    void Truncate(int slot, int length);
}

/// <summary>The ledger view of a real <see cref="KvCache"/>.</summary>
internal sealed class KvCacheLedger(KvCache cache) : IBlockLedger
{
    public int BlockSize => cache.BlockSize;
    public int FreeBlocks => cache.FreeBlocks;
    public int BlocksNeeded(int slot, int length) => cache.BlocksNeeded(slot, length);
    public bool CanResume(int slot, int length) => cache.CanResume(slot, length);
    public void Share(int source, int target, int length) => cache.CopyPrefix(source, target, length);
    public void Truncate(int slot, int length) => cache.Truncate(slot, length);
}
