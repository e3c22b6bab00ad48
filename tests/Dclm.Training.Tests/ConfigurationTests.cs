using Dclm.Training.Configuration;

namespace Dclm.Training.Tests;

public class ConfigurationTests
{
    [Fact]
    public void ReadsYamlAndCommandLineOverridesWin()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string path = Path.Combine(directory, "train.yaml");
        File.WriteAllText(path, """
            sources:
              general: general.bin
              domain: domain.bin
            stages:
              - name: general
                tokens: 1e6
                weights: { general: 1.0 }
              - name: domain
                tokens: 2e5
                weights: { general: 0.3, domain: 0.7 }
            dim: 128
            lr: 0.001
            z_loss: 5e-6
            tied_embeddings: true
            """);
        var options = TrainingOptionsReader.Read(path, new Dictionary<string, string> { ["dim"] = "64", ["steps"] = "0", ["seed"] = "7" });
        Assert.Equal(64, options.Dim);
        Assert.Equal(0.001, options.LearningRate);
        Assert.Equal(5e-6, options.ZLoss);
        Assert.True(options.TiedEmbeddings);
        Assert.Equal(7UL, options.Seed);
        Assert.Equal(Path.Combine(directory, "general.bin"), options.Sources["general"]);
        Assert.Equal(2, options.Stages.Count);
        Assert.Equal(200_000, options.Stages[1].Tokens);
        Assert.Equal(0.7, options.Stages[1].Weights["domain"]);
        // steps: 0 derives the updates from the stage budgets: 1.2M tokens / (8 × 256) per update.
        Assert.Equal((int)Math.Ceiling(1.2e6 / 2048), options.TotalSteps);
    }

    [Theory]
    [InlineData("dim", "wide", "dim")]
    [InlineData("colour", "blue", "unknown key")]
    [InlineData("heads", "3", "divisible")]
    [InlineData("final_dtype", "q4", "final_dtype")]
    public void BadValuesNameTheKey(string key, string value, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => TrainingOptionsReader.Read(null, new Dictionary<string, string> { ["data"] = "x.bin", [key] = value }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BadYamlNamesTheFile()
    {
        string path = Path.Combine(TrainingFixtures.TemporaryDirectory(), "bad.yaml");
        File.WriteAllText(path, "dim: [1, 2\n");
        var e = Assert.Throws<InvalidDataException>(() => TrainingOptionsReader.Read(path, new Dictionary<string, string>()));
        Assert.Contains(path, e.Message);
    }
}
