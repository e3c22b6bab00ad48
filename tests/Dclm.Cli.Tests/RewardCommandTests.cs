using System.Text.Json;

namespace Dclm.Cli.Tests;

/// <summary>
/// dclm train-reward and dclm score end to end on the tiny model: the files the run writes, a score that agrees with the
/// run's own last evaluation, the adapter usable by --lora, and bad input named with exit code 1.
/// </summary>
public sealed class RewardCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-reward-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private string Pairs(string name, int first, int count)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllLines(path, Enumerable.Range(first, count).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"Item {i}:", chosen = $" {i} apples.", rejected = $" {i} apples" })));
        return path;
    }

    [Fact]
    public void TrainRewardWritesARewardModelThatScoreReadsBack()
    {
        string model = TinyNeoXModel.Create(_directory);
        string train = Pairs("train.jsonl", 0, 12), held = Pairs("held.jsonl", 100, 6), output = Path.Combine(_directory, "rm");
        var run = DclmProcess.Run("train-reward", "--model", model, "--data", train, "--validation-data", held, "--output", output,
            "--lora-rank", "4", "--lora-alpha", "8", "--steps", "3", "--batch-size", "2", "--grad-accum", "1", "--lr", "1e-2", "--seq-len", "32",
            "--threads", "2", "--no-progress");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal($"reward model: {output}", run.LastLine);
        foreach (string file in new[] { "adapter/adapter_config.json", "adapter/adapter_model.safetensors", "reward_head.safetensors", "metrics.jsonl", "alignment.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);

        var score = DclmProcess.Run("score", "--reward-model", output, "--model", model, "--data", held, "--json", "--threads", "2");
        Assert.True(score.ExitCode == 0, score.Error);
        var result = JsonDocument.Parse(score.Output).RootElement;
        Assert.Equal(6, result.GetProperty("pairs").GetInt32());
        Assert.Equal(6, result.GetProperty("rewards").GetArrayLength());
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1]).RootElement;
        Assert.Equal(last.GetProperty("validation_reward_accuracy").GetDouble(), result.GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(last.GetProperty("validation_reward_margin").GetDouble(), result.GetProperty("margin").GetDouble(), 4);
        var text = DclmProcess.Run("score", "--reward-model", output, "--model", model, "--data", held, "--threads", "2");
        Assert.StartsWith("accuracy ", text.Output);

        var generate = DclmProcess.Run("generate", "--model", model, "--lora", Path.Combine(output, "adapter"), "--prompt", "Item 3:", "--max-tokens", "2", "--temperature", "0");
        Assert.True(generate.ExitCode == 0, generate.Error);
    }

    [Fact]
    public void BadInputIsNamed()
    {
        string model = TinyNeoXModel.Create(_directory);
        string bad = Path.Combine(_directory, "bad.jsonl");
        File.WriteAllLines(bad, ["{\"prompt\": \"a\", \"chosen\": \" b.\", \"rejected\": \" b\"}", "{\"prompt\": \"a\", \"chosen\": \" b.\"}"]);
        var training = DclmProcess.Run("train-reward", "--model", model, "--data", bad, "--output", Path.Combine(_directory, "rm"), "--steps", "1", "--seq-len", "32");
        Assert.Equal(1, training.ExitCode);
        Assert.Contains("bad.jsonl:2: rejected: missing", training.Error);
        var missing = DclmProcess.Run("score", "--reward-model", Path.Combine(_directory, "none"), "--model", model, "--data", bad);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such reward-model directory", missing.Error);
    }
}
