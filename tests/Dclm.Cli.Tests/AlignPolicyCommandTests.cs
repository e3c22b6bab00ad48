using System.Text.Json;

namespace Dclm.Cli.Tests;

/// <summary>
/// dclm align --method grpo|ppo end to end on the tiny model: GRPO scored by a reward command, PPO scored by a reward
/// model that dclm train-reward wrote, the files both write, the adapter usable by --lora, and bad input named with exit code 1.
/// </summary>
public sealed class AlignPolicyCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-policy-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private string Prompts()
    {
        string path = Path.Combine(_directory, "prompts.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 6).Select(i => JsonSerializer.Serialize(new { prompt = $"Item {i}:" })));
        return path;
    }

    private static readonly string[] Small = ["--lora-rank", "4", "--lora-alpha", "8", "--steps", "2", "--batch-size", "2", "--grad-accum", "1", "--lr", "1e-2",
        "--max-new-tokens", "4", "--update-epochs", "1", "--validation-split", "0", "--threads", "2", "--no-progress"];

    [Fact]
    public void GrpoWithARewardCommandWritesAnAdapter()
    {
        string model = TinyNeoXModel.Create(_directory), output = Path.Combine(_directory, "grpo");
        // A reward that differs within groups: the length of each JSON line.
        var run = DclmProcess.Run(["align", "--method", "grpo", "--model", model, "--prompts", Prompts(), "--output", output,
            "--reward-command", "awk '{ print length($0) % 7 }'", "--group-size", "2", "--rollouts", "4", .. Small]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal($"adapter: {Path.Combine(output, "adapter")}", run.LastLine);
        foreach (string file in new[] { "adapter/adapter_model.safetensors", "metrics.jsonl", "alignment.png", "align.json" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1]).RootElement;
        Assert.Equal(2, last.GetProperty("step").GetInt32());
        Assert.True(last.TryGetProperty("reward", out _) && last.TryGetProperty("kl", out _));
        var generate = DclmProcess.Run("generate", "--model", model, "--lora", Path.Combine(output, "adapter"), "--prompt", "Item 3:", "--max-tokens", "2", "--temperature", "0");
        Assert.True(generate.ExitCode == 0, generate.Error);
    }

    [Fact]
    public void PpoWithARewardModelTrainsAValueHead()
    {
        string model = TinyNeoXModel.Create(_directory), pairs = Path.Combine(_directory, "pairs.jsonl"), rm = Path.Combine(_directory, "rm");
        File.WriteAllLines(pairs, Enumerable.Range(0, 8).Select(i => JsonSerializer.Serialize(new { prompt = $"Item {i}:", chosen = $" {i}.", rejected = $" {i}" })));
        var reward = DclmProcess.Run("train-reward", "--model", model, "--data", pairs, "--output", rm, "--steps", "1", "--batch-size", "2", "--grad-accum", "1",
            "--seq-len", "32", "--validation-split", "0", "--threads", "2", "--no-progress");
        Assert.True(reward.ExitCode == 0, reward.Error);
        string output = Path.Combine(_directory, "ppo");
        var run = DclmProcess.Run(["align", "--method", "ppo", "--model", model, "--prompts", Prompts(), "--output", output, "--reward-model", rm,
            "--rollouts", "4", .. Small]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("a value head of", run.Error);
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1]).RootElement;
        Assert.True(last.TryGetProperty("value_loss", out _));
    }

    [Fact]
    public void BadInputIsNamed()
    {
        string model = TinyNeoXModel.Create(_directory), prompts = Prompts();
        var broken = DclmProcess.Run(["align", "--method", "grpo", "--model", model, "--prompts", prompts, "--output", Path.Combine(_directory, "a"),
            "--reward-command", "cat > /dev/null; echo 1", "--group-size", "2", "--rollouts", "4", .. Small]);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("reward command 'cat > /dev/null; echo 1' wrote 1 lines for 4 completions", broken.Error);
        var none = DclmProcess.Run(["align", "--method", "grpo", "--model", model, "--prompts", prompts, "--output", Path.Combine(_directory, "b"), .. Small]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("--reward-command or --reward-model", none.Error);
        var noPrompts = DclmProcess.Run(["align", "--method", "ppo", "--model", model, "--output", Path.Combine(_directory, "c"), "--reward-command", "cat", .. Small]);
        Assert.Equal(1, noPrompts.ExitCode);
        Assert.Contains("--prompts", noPrompts.Error);
    }
}
