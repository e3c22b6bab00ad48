using System.Runtime.InteropServices;
using Dclm.Formats.Gguf;
using Dclm.Tensors;

namespace Dclm.Formats.Tests;

public class GgufWriterTests
{
    [Fact]
    public void ReproducesThePythonWrittenSampleByteForByte()
    {
        using var directory = new TempDirectory();
        string path = directory.File("copy.gguf");
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        writer.AddUInt32("general.alignment", 64);
        writer.AddMetadata("test.uint8", GgufValue.FromUInt8(200));
        writer.AddMetadata("test.int8", GgufValue.FromInt8(-100));
        writer.AddMetadata("test.uint16", GgufValue.FromUInt16(60000));
        writer.AddMetadata("test.int16", GgufValue.FromInt16(-30000));
        writer.AddUInt32("test.uint32", 4000000000);
        writer.AddInt32("test.int32", -2000000000);
        writer.AddFloat32("test.float32", 0.25f);
        writer.AddBool("test.bool", true);
        writer.AddString("test.string", "héllo ✓");
        writer.AddUInt64("test.uint64", (1UL << 63) + 5);
        writer.AddInt64("test.int64", -(1L << 40));
        writer.AddFloat64("test.float64", 1.0 / 3.0);
        writer.AddStringArray("test.strings", ["a", "", "Ġthe", "<0x0A>"]);
        writer.AddFloat32Array("test.floats", [1.5f, -2.0f, 0.0f]);
        writer.AddInt32Array("test.ints", [1, -2, 3]);
        writer.AddMetadata("test.bools", GgufValue.FromArray([true, false]));
        writer.AddMetadata("test.nested", GgufValue.FromNestedArray([GgufValue.FromArray([1u, 2u]), GgufValue.FromStringArray(["x"])]));
        Assert.Equal(64u, writer.Alignment);

        float[] embedding = [-3.0f, -2.5f, -2.0f, -1.5f, -1.0f, -0.5f];
        writer.AddTensor("token_embd.weight", GgmlType.F32, [2, 3], MemoryMarshal.AsBytes(embedding.AsSpan()));
        Half[] norm = [(Half)1.0f, (Half)(-2.0f), (Half)0.5f, (Half)65504f];
        writer.AddTensor("blk.0.attn_norm.weight", GgmlType.F16, [4], stream => stream.Write(MemoryMarshal.AsBytes(norm.AsSpan())));
        var block = new byte[34];
        BitConverter.TryWriteBytes(block.AsSpan(0, 2), (Half)0.5f);
        for (int index = 0; index < 32; index++) block[2 + index] = (byte)(sbyte)(index - 16);
        writer.AddTensor("blk.0.attn_q.weight", GgmlType.Q8_0, [1, 32], block);
        writer.Write(path);

        Assert.Equal(File.ReadAllBytes(Fixtures.Path("sample.gguf")), File.ReadAllBytes(path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, ".*.tmp"));
    }

    [Fact]
    public void RoundTripsThroughTheReaderWithDefaultAlignment()
    {
        using var directory = new TempDirectory();
        string path = directory.File("round.gguf");
        var writer = new GgufWriter();
        string[] vocabulary = Enumerable.Range(0, 50000).Select(index => $"tok{index}").ToArray();
        writer.AddStringArray("tokenizer.ggml.tokens", vocabulary);
        writer.AddMetadata("test.doubles", GgufValue.FromArray([0.5, -1e300]));
        writer.AddMetadata("test.longs", GgufValue.FromArray([long.MinValue, 7L]));
        writer.AddMetadata("test.shorts", GgufValue.FromArray(new short[] { -5, 9 }));
        writer.AddMetadata("test.bytes", GgufValue.FromArray(new byte[] { 0, 255 }));
        writer.AddTensor("a", GgmlType.I32, [3], MemoryMarshal.AsBytes(new[] { 1, 2, 3 }.AsSpan()));
        writer.AddTensor("b", GgmlType.BF16, [2, 2, 1, 1], new byte[8]);
        writer.AddTensor("c", GgmlType.Q4_K, [2, 256], stream =>
        {
            for (int index = 0; index < 2 * 144; index++) stream.WriteByte((byte)index);
        });
        writer.Write(path);

        using GgufFile gguf = GgufFile.Open(path);
        Assert.Equal(32u, gguf.Alignment);
        Assert.False(gguf.Metadata.ContainsKey("general.alignment"));
        Assert.Equal(vocabulary, gguf.GetStringArray("tokenizer.ggml.tokens"));
        Assert.Equal(new[] { 0.5, -1e300 }, gguf.Metadata["test.doubles"].Value);
        Assert.Equal(new[] { long.MinValue, 7L }, gguf.Metadata["test.longs"].Value);
        Assert.Equal([-5, 9], gguf.GetInt32Array("test.shorts"));
        Assert.Equal([0, 255], gguf.GetInt32Array("test.bytes"));
        Assert.Equal([1, 2, 3], gguf.Tensors["a"].AsSpan<int>().ToArray());
        Assert.Equal([2L, 2L, 1L, 1L], gguf.Tensors["b"].Shape);
        TensorEntry quantized = gguf.Tensors["c"];
        Assert.Equal([2L, 256L], quantized.Shape);
        Assert.Equal(288, quantized.ByteLength);
        Assert.Equal(Enumerable.Range(0, 288).Select(index => (byte)index), quantized.Bytes.ToArray());
        Assert.Equal(0, gguf.DataOffset % 32);
    }

    [Fact]
    public void CustomAlignmentIsWrittenAndHonoured()
    {
        using var directory = new TempDirectory();
        string path = directory.File("aligned.gguf");
        var writer = new GgufWriter(alignment: 128);
        writer.AddTensor("x", GgmlType.F32, [1], new byte[4]);
        writer.AddTensor("y", GgmlType.F32, [1], new byte[4]);
        writer.Write(path);
        using GgufFile gguf = GgufFile.Open(path);
        Assert.Equal(128u, gguf.GetUInt32("general.alignment"));
        Assert.Equal(0, gguf.DataOffset % 128);
        unsafe { Assert.Equal(128, gguf.Tensors["y"].Data - gguf.Tensors["x"].Data); }
    }

    [Fact]
    public void CallbackWritingTheWrongByteCountLeavesNoFile()
    {
        using var directory = new TempDirectory();
        string path = directory.File("bad.gguf");
        var tooShort = new GgufWriter();
        tooShort.AddTensor("x", GgmlType.F32, [4], stream => stream.Write(new byte[15]));
        Assert.Contains("wrote 15 bytes", Assert.Throws<InvalidOperationException>(() => tooShort.Write(path)).Message);
        var tooLong = new GgufWriter();
        tooLong.AddTensor("x", GgmlType.F32, [4], stream => stream.Write(new byte[17]));
        Assert.Contains("more than the 16 bytes", Assert.Throws<InvalidOperationException>(() => tooLong.Write(path)).Message);
        Assert.Empty(Directory.GetFiles(directory.FullPath));
    }

    [Fact]
    public void RejectsInvalidTensorsAndKeys()
    {
        var writer = new GgufWriter();
        writer.AddString("k", "v");
        Assert.Throws<ArgumentException>(() => writer.AddString("k", "again"));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("q", GgmlType.Q8_0, [2, 31], new byte[68]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("f", GgmlType.F32, [2], new byte[7]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("z", GgmlType.F32, [0], ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("five", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor(new string('n', 64), GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("t", (GgmlType)4, [1], new byte[4]));
        writer.AddTensor("ok", GgmlType.F32, [1], new byte[4]);
        Assert.Throws<ArgumentException>(() => writer.AddTensor("ok", GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddUInt64("general.alignment", 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(alignment: 48));
    }
}
