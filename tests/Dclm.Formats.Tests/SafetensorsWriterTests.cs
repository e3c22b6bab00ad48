using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;

namespace Dclm.Formats.Tests;

public class SafetensorsWriterTests
{
    [Fact]
    public void RewritingAFixtureShardReproducesItsTensors()
    {
        using var directory = new TempDirectory();
        string path = directory.File("copy.safetensors");
        using (SafetensorsFile original = SafetensorsFile.Open(Fixtures.Path("dclm-tiny", "model-00001-of-00002.safetensors")))
        {
            var writer = new SafetensorsWriter();
            foreach (TensorEntry entry in original.Tensors.Values)
                writer.AddTensor(entry.Name, entry.DtypeName, entry.Shape, entry.Bytes);
            writer.Write(path);

            using SafetensorsFile copy = SafetensorsFile.Open(path);
            Assert.Equal(original.Tensors.Keys.Order(StringComparer.Ordinal), copy.Tensors.Keys);
            Assert.Equal("pt", copy.Metadata["format"]);
            foreach (TensorEntry entry in original.Tensors.Values)
            {
                Assert.Equal(entry.Shape, copy.Tensors[entry.Name].Shape);
                Assert.True(entry.Bytes.SequenceEqual(copy.Tensors[entry.Name].Bytes));
            }
            Assert.Equal(0, copy.DataOffset % 8);
            Assert.Equal(original.FileLength - original.DataOffset, copy.FileLength - copy.DataOffset);
        }
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, ".*.tmp"));
    }

    [Fact]
    public void HeaderFollowsThePythonLayout()
    {
        using var directory = new TempDirectory();
        string path = directory.File("layout.safetensors");
        var writer = new SafetensorsWriter();
        writer.AddMetadata("note", "ünïcode");
        writer.AddTensor("b_half", "F16", [3], new byte[6]);
        writer.AddTensor("a_byte", "U8", [1], new byte[] { 7 });
        writer.AddTensor("c_double", GgmlType.F64, [1], BitConverter.GetBytes(2.5));
        writer.AddTensor("scalar", GgmlType.F32, [], BitConverter.GetBytes(1.5f));
        writer.AddTensor("empty", "F32", [0, 4], ReadOnlySpan<byte>.Empty);
        writer.Write(path);

        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"ünïcode\"},\"c_double\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}", header);
        Assert.Matches(@"^\{.*\} {0,7}$", header); // padded with at most 7 spaces
        using JsonDocument parsed = JsonDocument.Parse(header);
        Assert.Equal(["__metadata__", "c_double", "empty", "scalar", "b_half", "a_byte"], parsed.RootElement.EnumerateObject().Select(property => property.Name));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Equal(2.5, BitConverter.ToDouble(file.Tensors["c_double"].Bytes));
        Assert.Empty(file.Tensors["scalar"].Shape);
        Assert.Equal(1.5f, file.Tensors["scalar"].AsSpan<float>()[0]);
        Assert.Equal(0, file.Tensors["empty"].ByteLength);
        Assert.Equal(TensorEntry.NoGgmlType, file.Tensors["a_byte"].Type);
        Assert.False(file.Tensors["a_byte"].HasGgmlType);
        Assert.Equal("U8", file.Tensors["a_byte"].DtypeName);
        Assert.Equal(7, file.Tensors["a_byte"].Bytes[0]);
    }

    [Fact]
    public void ShardsWithAnIndexThatTheCheckpointReaderMerges()
    {
        using var directory = new TempDirectory();
        var writer = new SafetensorsWriter();
        var expected = new Dictionary<string, float[]>();
        for (int index = 0; index < 5; index++)
        {
            float[] values = Enumerable.Range(0, 100).Select(value => value * 0.5f + index).ToArray();
            expected[$"layer.{index}.weight"] = values;
            // Streams the bytes in small pieces, as a converter would.
            writer.AddTensor($"layer.{index}.weight", GgmlType.F32, [10, 10], stream =>
            {
                for (int start = 0; start < values.Length; start += 30)
                    stream.Write(MemoryMarshal.AsBytes(values.AsSpan(start, Math.Min(30, values.Length - start))));
            });
        }
        IReadOnlyList<string> files = writer.WriteSharded(directory.FullPath, maxShardBytes: 800);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], files);

        using (JsonDocument index = JsonDocument.Parse(File.ReadAllBytes(directory.File(SafetensorsCheckpoint.IndexFileName))))
        {
            Assert.Equal(2000, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal("model-00003-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("layer.4.weight").GetString());
        }
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(directory.FullPath);
        Assert.Equal(3, checkpoint.Files.Count);
        foreach (var (name, values) in expected)
            Assert.Equal(values, checkpoint.GetTensor(name).AsSpan<float>().ToArray());
    }

    [Fact]
    public void OneShardIsWrittenAsModelSafetensors()
    {
        using var directory = new TempDirectory();
        var writer = new SafetensorsWriter();
        writer.AddTensor("w", GgmlType.BF16, [2], new byte[4]);
        Assert.Equal(["model.safetensors"], writer.WriteSharded(directory.FullPath, maxShardBytes: 1 << 20));
        Assert.False(File.Exists(directory.File(SafetensorsCheckpoint.IndexFileName)));
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(directory.FullPath);
        Assert.Equal([2L], checkpoint.GetTensor("w").Shape);
    }

    [Fact]
    public void RejectsBadTensorsAndShortCallbacks()
    {
        var writer = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => writer.AddTensor("q", GgmlType.Q8_0, [32], new byte[34]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("x", "F31", [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("x", "F32", [2], new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("__metadata__", "F32", [1], new byte[4]));
        writer.AddTensor("x", "F32", [2], stream => stream.Write(new byte[4]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("x", "F32", [1], new byte[4]));
        using var directory = new TempDirectory();
        Assert.Throws<InvalidOperationException>(() => writer.Write(directory.File("short.safetensors")));
        Assert.Empty(Directory.GetFiles(directory.FullPath));
    }
}
