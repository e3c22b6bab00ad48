using System.Diagnostics;
using Dclm.Checkpoints;
using Dclm.Formats;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Checkpoints.Tests;

/// <summary>
/// A checkpoint with DCLM-7B's real width, heads and vocabulary loads through mmap without copying the
/// weights, and read into memory (the default when it fits) with the copy as the only resident image.
/// </summary>
public sealed class LargeCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-7b-shape-").FullName;

    [Fact]
    public void SevenBShapedCheckpointMapsWithoutCopyingAndCopiesWithinTheFileSize()
    {
        // Two of DCLM-7B's 32 layers at full width: about 1.7 GB in bf16, made here and never committed.
        var config = ModelConfig.OpenLm(dim: 4096, layers: 2, heads: 32, vocabularySize: 50432);
        Assert.Equal(11008, config.HiddenDim);
        OpenLmCheckpointWriter.Write(_directory, config, GgmlType.BF16, WriteRandomBf16, maxShardBytes: 1L << 30);
        long fileBytes = Directory.GetFiles(_directory, "*.safetensors").Sum(f => new FileInfo(f).Length);
        Assert.True(Directory.GetFiles(_directory, "*.safetensors").Length >= 2, "expected a sharded checkpoint");

        float[] mappedLogits;
        long before = ResidentBytes();
        using (var mapped = ModelLoader.Load(_directory, loading: WeightLoading.Mapped))
        {
            long growth = ResidentBytes() - before;
            Assert.Equal(FileResidence.Mapped, mapped.Residence.Residence);
            Assert.Equal(4096, mapped.Config.Dim);
            Assert.Equal(50432, mapped.Config.VocabularySize);
            Assert.True(growth < fileBytes / 10, $"resident memory grew by {growth:N0} bytes mapping a {fileBytes:N0}-byte checkpoint");
            // And the mapped weights really run: one decode step over every matrix.
            mappedLogits = DecodeStep(mapped);
        }

        before = ResidentBytes();
        bool peakReset = ResetPeakResident();
        using var copied = ModelLoader.Load(_directory, loading: WeightLoading.Copied);
        long copyGrowth = ResidentBytes() - before;
        Assert.Equal(FileResidence.Copied, copied.Residence.Residence);
        Assert.Equal(fileBytes, copied.Residence.Bytes);
        // The copy is resident (it is what decode streams), and nothing else of the file is: no mapped pages beside it.
        long slack = 128L << 20;
        Assert.InRange(copyGrowth, fileBytes * 9 / 10, fileBytes + slack);
        if (peakReset)
        {
            long peakGrowth = PeakResidentBytes() - before;
            Assert.True(peakGrowth <= fileBytes + slack, $"resident memory peaked {peakGrowth:N0} bytes above the start while copying a {fileBytes:N0}-byte checkpoint");
        }
        Assert.Equal(mappedLogits, DecodeStep(copied));
    }

    private static float[] DecodeStep(LoadedModel loaded)
    {
        var logits = new float[loaded.Config.VocabularySize];
        loaded.Model.Forward(ForwardBatch.Sequence([17], 0), loaded.Model.CreateCache(1, 8), logits);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        return logits;
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>Sets VmHWM, the peak resident size, to the current one (Linux 4.0+); false where that cannot be done.</summary>
    private static bool ResetPeakResident()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static long PeakResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
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
