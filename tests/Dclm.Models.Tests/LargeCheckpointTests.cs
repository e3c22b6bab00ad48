using System.Diagnostics;
using Dclm.Checkpoints;
using Dclm.Tensors;

namespace Dclm.Models.Tests;

/// <summary>A checkpoint with DCLM-7B's real width, heads and vocabulary loads through mmap without copying the weights.</summary>
public sealed class LargeCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-7b-shape-").FullName;

    [Fact]
    public void SevenBShapedCheckpointLoadsWithoutCopyingWeights()
    {
        // Two of DCLM-7B's 32 layers at full width: about 1.7 GB in bf16, made here and never committed.
        var config = ModelConfig.OpenLm(dim: 4096, layers: 2, heads: 32, vocabularySize: 50432);
        Assert.Equal(11008, config.HiddenDim);
        OpenLmCheckpointWriter.Write(_directory, config, GgmlType.BF16, WriteRandomBf16, maxShardBytes: 1L << 30);
        long fileBytes = Directory.GetFiles(_directory, "*.safetensors").Sum(f => new FileInfo(f).Length);
        Assert.True(Directory.GetFiles(_directory, "*.safetensors").Length >= 2, "expected a sharded checkpoint");

        long before = ResidentBytes();
        using var loaded = ModelLoader.Load(_directory);
        long growth = ResidentBytes() - before;

        Assert.Equal(4096, loaded.Config.Dim);
        Assert.Equal(50432, loaded.Config.VocabularySize);
        Assert.True(growth < fileBytes / 10, $"resident memory grew by {growth:N0} bytes loading a {fileBytes:N0}-byte checkpoint");

        // And the mapped weights really run: one decode step over every matrix.
        var logits = new float[config.VocabularySize];
        loaded.Model.Forward(ForwardBatch.Sequence([17], 0), loaded.Model.CreateCache(1, 8), logits);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>Small random bf16 values (norm gains near 1) from a cheap xorshift, streamed in 1 MiB pieces.</summary>
    private static void WriteRandomBf16(string name, long[] shape, Stream stream)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        bool gain = shape.Length == 1;
        bool f32 = name.EndsWith("inv_freq", StringComparison.Ordinal);
        ulong state = (ulong)name.GetHashCode() | 1;
        var buffer = new byte[1 << 20];
        int fill = 0;
        for (long i = 0; i < count; i++)
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            float value = f32 ? (float)Math.Pow(10000, -2.0 * i / 128) : gain ? 1f : ((state >> 40) / (float)(1 << 24) - 0.5f) * 0.04f;
            uint bits = BitConverter.SingleToUInt32Bits(value);
            if (f32)
            {
                BitConverter.TryWriteBytes(buffer.AsSpan(fill), bits);
                fill += 4;
            }
            else
            {
                BitConverter.TryWriteBytes(buffer.AsSpan(fill), (ushort)(bits >> 16));
                fill += 2;
            }
            if (fill > buffer.Length - 4) { stream.Write(buffer, 0, fill); fill = 0; }
        }
        stream.Write(buffer, 0, fill);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
