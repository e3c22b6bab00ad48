using System.Runtime.InteropServices;
using Dclm.Tensors;

namespace Dclm.Models.Tests;

/// <summary>Random f32 weights for a config, in native memory that the returned weights own.</summary>
internal static unsafe class SyntheticModel
{
    public static DecoderModel Create(ModelConfig config, int seed = 1234, Dclm.Tensors.Compute.ComputePool? pool = null)
    {
        var random = new Random(seed);
        var memory = new NativeBlocks();
        WeightMatrix Matrix(int rows, int cols, double scale)
        {
            float* data = memory.Allocate((long)rows * cols);
            for (long i = 0; i < (long)rows * cols; i++) data[i] = (float)((random.NextDouble() * 2 - 1) * scale);
            return new WeightMatrix((byte*)data, GgmlType.F32, rows, cols);
        }
        float[] Gain(int n) => Enumerable.Range(0, n).Select(_ => (float)(0.8 + 0.4 * random.NextDouble())).ToArray();
        int d = config.Dim, kv = config.KeyValueDim, h = config.HiddenDim;
        double s = 1.0 / Math.Sqrt(d);
        var layers = new LayerWeights[config.Layers];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = new LayerWeights
            {
                AttentionNorm = Gain(d), Query = Matrix(d, d, 2 * s), Key = Matrix(kv, d, 2 * s), Value = Matrix(kv, d, s),
                QueryNorm = config.QueryKeyNorm == QueryKeyNorm.FullWidth ? Gain(d) : null, KeyNorm = config.QueryKeyNorm == QueryKeyNorm.FullWidth ? Gain(kv) : null,
                Output = Matrix(d, d, s), FeedForwardNorm = Gain(d), Gate = Matrix(h, d, s), Up = Matrix(h, d, s),
                Down = Matrix(d, h, 1.0 / Math.Sqrt(h)),
            };
        }
        var embedding = Matrix(config.VocabularySize, d, 1);
        var weights = new ModelWeights(embedding, layers, Gain(d), Matrix(config.VocabularySize, d, s), memory);
        return new DecoderModel(config, weights, pool);
    }

    private sealed class NativeBlocks : IDisposable
    {
        private readonly List<nint> _blocks = [];
        public float* Allocate(long count)
        {
            var p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
            _blocks.Add((nint)p);
            return p;
        }
        public void Dispose()
        {
            foreach (var p in _blocks) NativeMemory.AlignedFree((void*)p);
            _blocks.Clear();
        }
    }
}
