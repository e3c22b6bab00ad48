using Dclm.Formats.Safetensors;
using Dclm.Tensors;

namespace Dclm.Formats.Tests;

// fixtures/dclm-tiny* are the shared open_lm test checkpoints (written by PyTorch tooling); the expected
// values below were computed with a separate Python stdlib reader of the same files.
public class SafetensorsReaderTests
{
    private static readonly (string Name, long[] Shape)[] Layout =
    [
        ("model.layers.0.attention.in_proj.weight", [192, 64]),
        ("model.layers.0.attention.k_norm.weight", [64]),
        ("model.layers.0.attention.out_proj.weight", [64, 64]),
        ("model.layers.0.attention.pos_embed.inv_freq", [8]),
        ("model.layers.0.attention.q_norm.weight", [64]),
        ("model.layers.0.attention_norm.weight", [64]),
        ("model.layers.0.feed_forward.w12.weight", [512, 64]),
        ("model.layers.0.feed_forward.w3.weight", [64, 256]),
        ("model.layers.0.ffn_norm.weight", [64]),
        ("model.layers.1.attention.in_proj.weight", [192, 64]),
        ("model.layers.1.attention.k_norm.weight", [64]),
        ("model.layers.1.attention.out_proj.weight", [64, 64]),
        ("model.layers.1.attention.pos_embed.inv_freq", [8]),
        ("model.layers.1.attention.q_norm.weight", [64]),
        ("model.layers.1.attention_norm.weight", [64]),
        ("model.layers.1.feed_forward.w12.weight", [512, 64]),
        ("model.layers.1.feed_forward.w3.weight", [64, 256]),
        ("model.layers.1.ffn_norm.weight", [64]),
        ("model.norm.weight", [64]),
        ("model.output.weight", [512, 64]),
        ("model.tok_embeddings.weight", [512, 64]),
    ];

    [Theory]
    [InlineData("dclm-tiny", "F32", GgmlType.F32, 4)]
    [InlineData("dclm-tiny-bf16", "BF16", GgmlType.BF16, 2)]
    public void OpensTheShardedFixtureThroughItsIndex(string directory, string dtype, GgmlType type, int elementSize)
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(Fixtures.Path(directory));
        Assert.Equal(Fixtures.Path(directory, SafetensorsCheckpoint.IndexFileName), checkpoint.IndexPath);
        Assert.Equal(2, checkpoint.Files.Count);
        Assert.Equal(Layout.Select(item => item.Name), checkpoint.Tensors.Keys);
        foreach (var (name, shape) in Layout)
        {
            TensorEntry entry = checkpoint.Tensors[name];
            Assert.Equal(shape, entry.Shape);
            Assert.Equal(dtype, entry.DtypeName);
            Assert.Equal(type, entry.Type);
            Assert.Equal(entry.ElementCount * elementSize, entry.ByteLength);
        }
        Assert.Equal("pt", checkpoint.Metadata["format"]);
        Assert.Equal(788800 / (4 / elementSize), checkpoint.Tensors.Values.Sum(entry => entry.ByteLength));
    }

    [Theory]
    [InlineData("model.layers.0.attention.in_proj.weight", -0.03432833403348923, -0.09466611593961716, -19.806552192212735)]
    [InlineData("model.layers.0.attention.pos_embed.inv_freq", 1.0, 0.0003162277571391314, 1.4623290454910602)]
    [InlineData("model.layers.1.feed_forward.w3.weight", -0.04147358238697052, -0.007179959677159786, -9.550584999140824)]
    [InlineData("model.tok_embeddings.weight", 0.0341927669942379, 0.8146488666534424, 72.00016865910584)]
    public void Float32ValuesMatchAnIndependentReader(string name, double first, double last, double sum)
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(Fixtures.Path("dclm-tiny"));
        ReadOnlySpan<float> values = checkpoint.GetTensor(name).AsSpan<float>();
        Assert.Equal((float)first, values[0]);
        Assert.Equal((float)last, values[^1]);
        Assert.Equal(sum, SumOf(values.ToArray()), 1e-9);
    }

    [Theory]
    [InlineData("model.layers.0.feed_forward.w12.weight", -0.08984375, -0.050537109375, -28.50837332010269)]
    [InlineData("model.layers.1.attention.out_proj.weight", 0.055908203125, -0.1455078125, 16.55315601825714)]
    [InlineData("model.tok_embeddings.weight", -0.0068359375, -0.03662109375, 371.4449396133423)]
    public void BFloat16ValuesMatchAnIndependentReader(string name, double first, double last, double sum)
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(Fixtures.Path("dclm-tiny-bf16"));
        // bf16 is the high half of a float32.
        float[] values = checkpoint.GetTensor(name).AsSpan<ushort>().ToArray()
            .Select(bits => BitConverter.Int32BitsToSingle(bits << 16)).ToArray();
        Assert.Equal((float)first, values[0]);
        Assert.Equal((float)last, values[^1]);
        Assert.Equal(sum, SumOf(values), 1e-9);
    }

    private static double SumOf(float[] values)
    {
        double sum = 0;
        foreach (float value in values) sum += value;
        return sum;
    }

    [Fact]
    public void OpensSingleShardsAndDirectoriesWithoutAnIndex()
    {
        string shard = Fixtures.Path("dclm-tiny", "model-00002-of-00002.safetensors");
        using (SafetensorsFile file = SafetensorsFile.Open(shard))
        {
            Assert.Equal(10, file.Tensors.Count);
            Assert.Equal(8 + 1080, file.DataOffset);
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal("model.layers.1.attention.out_proj.weight", file.Tensors.Keys.First());
        }
        using (SafetensorsCheckpoint single = SafetensorsCheckpoint.Open(shard))
        {
            Assert.Null(single.IndexPath);
            Assert.Equal(10, single.Tensors.Count);
        }

        using var directory = new TempDirectory();
        foreach (string name in new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" })
            File.Copy(Fixtures.Path("dclm-tiny", name), directory.File(name));
        using SafetensorsCheckpoint globbed = SafetensorsCheckpoint.Open(directory.FullPath);
        Assert.Null(globbed.IndexPath);
        Assert.Equal(Layout.Select(item => item.Name), globbed.Tensors.Keys);
    }

    [Fact]
    public void MissingTensorsAndEmptyDirectoriesAreNamed()
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(Fixtures.Path("dclm-tiny"));
        Assert.Contains("tensor 'nope' is missing", Assert.Throws<ModelFileException>(() => checkpoint.GetTensor("nope")).Message);
        using var directory = new TempDirectory();
        var error = Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(directory.FullPath));
        Assert.StartsWith(directory.FullPath + ": holds no model.safetensors", error.Message);
        Assert.Contains("no such file or directory", Assert.Throws<ModelFileException>(() => SafetensorsCheckpoint.Open(directory.File("absent"))).Message);
    }
}
