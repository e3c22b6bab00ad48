using Dclm.Models;

namespace Dclm.Inference.Engine;

/// <summary>What the scheduler may know about the KV pool: counts only, never tensors.</summary>
internal interface IBlockLedger
{
    int BlockSize { get; }
    int FreeBlocks { get; }
    /// <summary>Blocks that growing <paramref name="slot"/> to <paramref name="length"/> positions takes from the pool.</summary>
    int BlocksNeeded(int slot, int length);
}

/// <summary>The ledger view of a real <see cref="KvCache"/>.</summary>
internal sealed class KvCacheLedger(KvCache cache) : IBlockLedger
{
    public int BlockSize => cache.BlockSize;
    public int FreeBlocks => cache.FreeBlocks;
    public int BlocksNeeded(int slot, int length) => cache.BlocksNeeded(slot, length);
}
