using System.Text.Json.Nodes;
using Dclm.Checkpoints;
using Dclm.Formats;
using Dclm.TestSupport;

namespace Dclm.Checkpoints.Tests;

/// <summary>Broken checkpoints give one-line errors that name the file and the problem.</summary>
public sealed class CheckpointBadInputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-bad-").FullName;

    private string CopyFixture()
    {
        string source = ReferenceFixture.Load("dclm-tiny").Directory;
        string target = Path.Combine(_directory, "model");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    private static ModelFileException LoadFails(string path)
    {
        var error = Assert.Throws<ModelFileException>(() => ModelLoader.Load(path).Dispose());
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    private void EditConfig(string model, Action<JsonObject> edit)
    {
        string path = Path.Combine(model, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void MalformedConfigJsonNamesTheFile()
    {
        string model = CopyFixture();
        File.WriteAllText(Path.Combine(model, "config.json"), "{ \"dim\": 64, ");
        var error = LoadFails(model);
        Assert.EndsWith("config.json", error.FilePath);
        Assert.Contains("not valid JSON", error.Message);
    }

    [Theory]
    [InlineData("dim", null, "'dim' is missing")]
    [InlineData("dim", "\"sixty-four\"", "'dim' must be an integer")]
    [InlineData("n_heads", "5", "heads 5 must divide dim 64")]
    [InlineData("vocab_size", "4294967296", "'vocab_size' must be an integer")]
    [InlineData("n_layers", "100000", "layers 100000 must be in")]
    [InlineData("norm_type", "\"batch_norm\"", "norm_type 'batch_norm' is not supported")]
    [InlineData("apply_qk_norm", "\"yes\"", "'apply_qk_norm' must be true or false")]
    public void ConfigProblemsNameTheKey(string key, string? value, string expected)
    {
        string model = CopyFixture();
        EditConfig(model, json => { if (value is null) json.Remove(key); else json[key] = JsonNode.Parse(value); });
        var error = LoadFails(model);
        Assert.EndsWith("config.json", error.FilePath);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ConfigThatClaimsMoreLayersThanTheWeightsNamesTheMissingTensor()
    {
        string model = CopyFixture();
        EditConfig(model, json => json["n_layers"] = 3);
        var error = LoadFails(model);
        Assert.Contains("model.layers.2.", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void ConfigWhoseWidthDisagreesWithTheWeightsNamesTheTensorAndShapes()
    {
        string model = CopyFixture();
        EditConfig(model, json => { json["dim"] = 128; json["n_heads"] = 4; });
        var error = LoadFails(model);
        Assert.Contains("shape [", error.Message);
        Assert.Contains("the config needs [", error.Message);
    }

    [Fact]
    public void TruncatedShardNamesTheShard()
    {
        string model = CopyFixture();
        string shard = Path.Combine(model, "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length / 2)]);
        var error = LoadFails(model);
        Assert.EndsWith("model-00002-of-00002.safetensors", error.FilePath);
    }

    [Fact]
    public void GarbageTokenizerJsonNamesTheTokenizer()
    {
        string model = CopyFixture();
        File.WriteAllText(Path.Combine(model, "tokenizer.json"), "[1, 2, 3]");
        var error = LoadFails(model);
        Assert.EndsWith("tokenizer.json", error.FilePath);
    }

    [Fact]
    public void NonModelFileIsRejected()
    {
        string path = Path.Combine(_directory, "notes.txt");
        File.WriteAllText(path, "hello");
        Assert.Contains("neither a GGUF file nor a checkpoint directory", LoadFails(path).Message);
        Assert.Contains("no such file or directory", LoadFails(Path.Combine(_directory, "missing")).Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
