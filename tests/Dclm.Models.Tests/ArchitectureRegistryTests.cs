using System.Text.Json.Nodes;
using Dclm.Checkpoints;
using Dclm.Formats;

namespace Dclm.Models.Tests;

/// <summary>The registry names every architecture once, and configs and checkpoints are checked against its facts.</summary>
public sealed class ArchitectureRegistryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-arch-").FullName;

    [Fact]
    public void EveryNameFindsItsArchitectureAndNoNameIsShared()
    {
        Assert.Equal([Architecture.OpenLm, Architecture.Llama, Architecture.Qwen2, Architecture.Qwen3], Architecture.All);
        var names = Architecture.All.SelectMany(a => a.Names).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
        foreach (var architecture in Architecture.All)
            foreach (string name in architecture.Names) Assert.Same(architecture, Architecture.Find(name));
        Assert.Null(Architecture.Find("gpt2"));
        // The GGUF names are llama.cpp's, and ours for open_lm.
        Assert.Equal(["openlm", "llama", "qwen2", "qwen3"], Architecture.All.Select(a => a.Name));
    }

    [Theory]
    [InlineData("Llama", QueryKeyNorm.FullWidth)]
    [InlineData("Llama", QueryKeyNorm.PerHead)]
    [InlineData("Qwen3", QueryKeyNorm.None)]
    [InlineData("OpenLm", QueryKeyNorm.PerHead)]
    public void AConfigWithQueryKeyNormsItsArchitectureLacksIsRefused(string title, QueryKeyNorm norm)
    {
        var config = ModelConfig.OpenLm(64, 1, 4, 97) with { Architecture = Architecture.All.Single(a => a.Title == title), QueryKeyNorm = norm };
        var error = Assert.Throws<InvalidDataException>(() => config.Validate());
        Assert.Contains($"{title} models normalise Q and K", error.Message);
    }

    [Theory]
    [InlineData("llama", null, "Llama")]
    [InlineData("mistral", false, "Llama")]
    [InlineData("qwen2", null, "Qwen2")]
    [InlineData("qwen2", false, "Qwen2")]
    [InlineData("qwen3", false, "Qwen3")]
    public void HuggingFaceModelTypesMapToTheirArchitecture(string modelType, bool? attentionBias, string expected)
    {
        var config = HfConfigReader.Read(WriteConfig(modelType, attentionBias));
        Assert.Equal(expected, config.Architecture.Title);
        Assert.Equal(config.Architecture.QueryKeyNorms[0], config.QueryKeyNorm);
        Assert.Equal(expected == "Qwen2", config.AttentionBias);
    }

    [Theory]
    [InlineData("qwen3", true)]
    [InlineData("llama", true)]
    [InlineData("gpt2", null)]
    public void ModelTypesOrBiasesTheBlocksDoNotRunAreRefused(string modelType, bool? attentionBias)
    {
        var error = Assert.Throws<ModelFileException>(() => HfConfigReader.Read(WriteConfig(modelType, attentionBias)));
        Assert.Contains(modelType == "gpt2" ? "model_type 'gpt2' is not supported" : "attention_bias", error.Message);
    }

    private string WriteConfig(string modelType, bool? attentionBias)
    {
        var json = new JsonObject
        {
            ["model_type"] = modelType, ["hidden_size"] = 64, ["num_hidden_layers"] = 1, ["num_attention_heads"] = 4,
            ["intermediate_size"] = 128, ["vocab_size"] = 97,
        };
        if (attentionBias is { } bias) json["attention_bias"] = bias;
        string path = Path.Combine(_directory, $"{modelType}-{attentionBias}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
