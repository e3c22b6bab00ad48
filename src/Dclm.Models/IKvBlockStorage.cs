namespace Dclm.Models;

/// <summary>
/// Keys and values kept outside a <see cref="KvCache"/> (on an accelerator), indexed by the cache's block ids: the cache
/// keeps the block tables and reference counts and tells the storage when a shared block must be copied before a write.
/// </summary>
public interface IKvBlockStorage
{
    /// <summary>Copies every layer's keys and values of block <paramref name="source"/> into block <paramref name="destination"/>.</summary>
    void CopyBlock(int source, int destination);
}
