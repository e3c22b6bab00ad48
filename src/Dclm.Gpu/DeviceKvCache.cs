using ILGPU;
using Dclm.Models;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// Keys and values of a <see cref="KvCache"/> in device memory, per layer (blocks, blockSize, kvd) floats each, indexed
/// by the cache's block ids; the cache keeps the tables and reference counts and asks for copies of shared blocks.
/// </summary>
internal sealed class DeviceKvCache : IKvBlockStorage, IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _keys, _values;
    private readonly long _blockFloats;

    public DeviceKvCache(Accelerator accelerator, ModelConfig config, int blocks, int blockSize)
    {
        _blockFloats = (long)blockSize * config.KeyValueDim;
        long perLayer = blocks * _blockFloats;
        _keys = Enumerable.Range(0, config.Layers).Select(_ => accelerator.Allocate1D<float>(perLayer)).ToArray();
        _values = Enumerable.Range(0, config.Layers).Select(_ => accelerator.Allocate1D<float>(perLayer)).ToArray();
    }

    /// <summary>Keys of layer <paramref name="layer"/>. (blocks·blockSize, kvd)</summary>
    public ArrayView1D<float, Stride1D.Dense> Keys(int layer) => _keys[layer].View;
    /// <summary>Values of layer <paramref name="layer"/>. (blocks·blockSize, kvd)</summary>
    public ArrayView1D<float, Stride1D.Dense> Values(int layer) => _values[layer].View;

    public void CopyBlock(int source, int destination)
    {
        for (int l = 0; l < _keys.Length; l++)
        {
            _keys[l].View.SubView(source * _blockFloats, _blockFloats).CopyTo(_keys[l].View.SubView(destination * _blockFloats, _blockFloats));
            _values[l].View.SubView(source * _blockFloats, _blockFloats).CopyTo(_values[l].View.SubView(destination * _blockFloats, _blockFloats));
        }
    }

    public void Dispose()
    {
        foreach (var b in _keys) b.Dispose();
        foreach (var b in _values) b.Dispose();
    }
}
