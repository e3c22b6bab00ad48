using System.Text.Json;
using Dclm.Checkpoints.Adapters;
using Dclm.Models;
using Dclm.Training.Alignment.Reinforcement;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Tests.Alignment;

/// <summary>PPO and GRPO runs on a tiny model: exact resume after Ctrl+C, what they write, refusals; the reward command's checks.</summary>
public class PolicyRunTests
{
    private static string TinyBase(string directory)
    {
        var config = ModelConfig.OpenLm(64, 2, 2, 50432, 128) with { HiddenDim = 256 };
        return Dclm.TestSupport.TinyNeoXModels.Write(directory, config, 3, 0.2f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
    }

    private static string Prompts(string directory)
    {
        string path = Path.Combine(directory, "prompts.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(new { prompt = $"Question {i}: name a number." })));
        return path;
    }

    /// <summary>A verifiable reward computed in process: the share of the completion's characters that are letters, so rewards differ within a group.</summary>
    private sealed class LetterShare : IRewardSource
    {
        public string Name => "letter share";
        public double[] Score(IReadOnlyList<ScoredText> items, CancellationToken cancellation = default) =>
            items.Select(i => i.Completion.Length == 0 ? 0.0 : (double)i.Completion.Count(char.IsLetter) / i.Completion.Length).ToArray();
        public void Dispose() { }
    }

    private static PolicyOptions Options(string model, string prompts, string output, PolicyMethod method) => new()
    {
        Method = method, RewardCommand = "unused: the tests pass their own source", GroupSize = 4, Rollouts = 8, MaxNewTokens = 6, UpdateEpochs = 2,
        Training = new FineTuneOptions
        {
            Model = model, Data = prompts, Output = output, Rank = 4, Alpha = 8, BatchSize = 2, GradientAccumulation = 2, Steps = 4, LearningRate = 1e-2,
            Threads = 2, EvalEvery = 2, CheckpointEvery = 0, ValidationSplit = 0.2,
        },
    };

    [Theory]
    [InlineData(PolicyMethod.Grpo)]
    [InlineData(PolicyMethod.Ppo)]
    public void ResumeReproducesTheUninterruptedRunExactly(PolicyMethod method)
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), prompts = Prompts(directory);
        var baseline = Options(model, prompts, Path.Combine(directory, "uninterrupted"), method);
        List<double> expected;
        using (var run = PolicyRun.Create(baseline, reward: new LetterShare()))
        {
            Assert.Equal(method == PolicyMethod.Ppo, run.ValueHead is not null);
            expected = new PolicyTrainer(run).Run().Losses.ToList();
        }
        Assert.Equal(4, expected.Count);
        Assert.All(expected, l => Assert.True(double.IsFinite(l)));

        var interrupted = baseline with { Training = baseline.Training with { Output = Path.Combine(directory, "interrupted") } };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = PolicyRun.Create(interrupted, reward: new LetterShare()))
        {
            var result = new PolicyTrainer(run).Run(new Immediate(p => { if (p.Step == 2) stop.Cancel(); }), stop.Token);
            Assert.True(result.Interrupted);
            first = result.Losses.ToList();
        }
        Assert.Contains("--resume", Assert.Throws<ArgumentException>(() => PolicyRun.Create(interrupted, reward: new LetterShare())).Message);
        var changed = Assert.Throws<ArgumentException>(() => PolicyRun.Create(interrupted with { Clip = 0.3, Training = interrupted.Training with { Resume = true } }, reward: new LetterShare()));
        Assert.Contains("--clip", changed.Message);
        List<double> second;
        using (var run = PolicyRun.Create(interrupted with { Training = interrupted.Training with { Resume = true } }, reward: new LetterShare()))
        {
            Assert.Equal(2, run.Resumed?.Step);
            second = new PolicyTrainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        Assert.Equal(File.ReadAllBytes(Path.Combine(baseline.Training.Output, "adapter", PeftAdapter.WeightsFile)),
            File.ReadAllBytes(Path.Combine(interrupted.Training.Output, "adapter", PeftAdapter.WeightsFile)));
        var metrics = File.ReadAllLines(Path.Combine(interrupted.Training.Output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(5, metrics.Length);
        Assert.True(metrics[0].TryGetProperty("validation_reward", out _));
        Assert.True(metrics[^1].GetProperty("kl").GetDouble() >= -1e-3);
        Assert.Equal(method == PolicyMethod.Ppo, metrics[^1].TryGetProperty("value_loss", out _));
        Assert.True(File.Exists(Path.Combine(interrupted.Training.Output, "alignment.png")));
    }

    [Fact]
    public void BadSettingsAreRefusedNamingTheFlag()
    {
        var training = new FineTuneOptions { Model = "m.gguf", Data = "p.jsonl", Output = "out" };
        string Refusal(PolicyOptions o) => Assert.Throws<ArgumentException>(() => o.Validate()).Message;
        var grpo = new PolicyOptions { Training = training, RewardCommand = "python3 score.py" };
        Assert.Contains("--reward-command or --reward-model", Refusal(grpo with { RewardCommand = null }));
        Assert.Contains("--reward-command or --reward-model", Refusal(grpo with { RewardModel = "runs/rm" }));
        Assert.Contains("--reward-model is for --method ppo", Refusal(grpo with { RewardCommand = null, RewardModel = "runs/rm" }));
        Assert.Contains("--rollouts", Refusal(grpo with { Rollouts = 12, GroupSize = 8 }));
        Assert.Contains("--group-size", Refusal(grpo with { GroupSize = 1 }));
        Assert.Contains("--clip", Refusal(grpo with { Clip = 0 }));
        Assert.Contains("--gae-lambda", Refusal(grpo with { Method = PolicyMethod.Ppo, GaeLambda = 1.5 }));
        Assert.Contains("--kl-coef", Refusal(grpo with { KlCoefficient = -1 }));
        Assert.Contains("--max-new-tokens", Refusal(grpo with { MaxNewTokens = 0 }));
        // PPO samples one completion a prompt, so any --rollouts count works.
        (grpo with { Method = PolicyMethod.Ppo, Rollouts = 13 }).Validate();
    }

    [Fact]
    public void PromptFilesAreCheckedLineByLine()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory);
        using var loaded = Dclm.Checkpoints.ModelLoader.Load(model, new Dclm.Tensors.Compute.ComputePool(1));
        var tokenizer = loaded.RequireTokenizer();
        string Refusal(string content)
        {
            string path = Path.Combine(directory, "bad.jsonl");
            File.WriteAllText(path, content);
            return Assert.Throws<InvalidDataException>(() => PromptSet.Read(path, tokenizer)).Message;
        }
        Assert.Contains("bad.jsonl:2: prompt: missing", Refusal("{\"prompt\":\"a\"}\n{\"text\":\"b\"}\n"));
        Assert.Contains("bad.jsonl:1: prompt: expected a string, found number", Refusal("{\"prompt\":3}\n"));
        Assert.Contains("bad.jsonl:3: not valid JSON", Refusal("{\"prompt\":\"a\"}\n\n{oops\n"));
        Assert.Contains("bad.jsonl:1: prompt: empty", Refusal("{\"prompt\":\"\"}\n"));
        Assert.Contains("no prompts", Refusal("\n"));
        string good = Path.Combine(directory, "good.jsonl");
        File.WriteAllText(good, "{\"prompt\":\"Hello there\",\"id\":1}\n\n{\"prompt\":\"Bye\"}\n");
        var prompts = PromptSet.Read(good, tokenizer);
        Assert.Equal([1, 3], prompts.Select(p => p.Line));
        Assert.Equal(tokenizer.EncodePrompt("Hello there"), prompts[0].Tokens);
    }

    private static readonly ScoredText[] Two = [new("Q", " a.", [1, 2]), new("Q", " b", [1, 3])];

    [Fact]
    public void TheRewardCommandReadsJsonLinesAndWritesOneNumberALine()
    {
        // The command sees each item as one JSON line with its prompt and completion.
        var command = new RewardCommand("while IFS= read -r line; do case \"$line\" in *'a.\"'*) echo 1;; *) echo -0.5;; esac; done", TimeSpan.FromSeconds(30));
        Assert.Equal([1.0, -0.5], command.Score(Two));
        Assert.Empty(command.Score([]));
    }

    [Fact]
    public void ABadRewardCommandIsAClearError()
    {
        var timeout = TimeSpan.FromSeconds(30);
        var count = Assert.Throws<InvalidDataException>(() => new RewardCommand("cat > /dev/null; echo 1", timeout).Score(Two));
        Assert.Contains("reward command 'cat > /dev/null; echo 1' wrote 1 lines for 2 completions", count.Message);
        var number = Assert.Throws<InvalidDataException>(() => new RewardCommand("cat > /dev/null; printf '1\\nhigh\\n'", timeout).Score(Two));
        Assert.Contains("output line 2: 'high' is not a finite number", number.Message);
        var infinite = Assert.Throws<InvalidDataException>(() => new RewardCommand("cat > /dev/null; printf 'nan\\n1\\n'", timeout).Score(Two));
        Assert.Contains("output line 1", infinite.Message);
        var exit = Assert.Throws<InvalidDataException>(() => new RewardCommand("cat > /dev/null; echo boom >&2; exit 3", timeout).Score(Two));
        Assert.Contains("exited with code 3: boom", exit.Message);
        var slow = Assert.Throws<TimeoutException>(() => new RewardCommand("sleep 20", TimeSpan.FromSeconds(0.5)).Score(Two));
        Assert.Contains("reward command 'sleep 20' did not finish within 0.5 s", slow.Message);
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
