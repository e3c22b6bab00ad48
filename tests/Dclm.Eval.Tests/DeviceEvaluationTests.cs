using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Eval.Tasks;
using Dclm.Gpu;
using Dclm.TestSupport;

namespace Dclm.Eval.Tests;

/// <summary>
/// Evaluation over the GPU backend (on ILGPU's CPU accelerator) against the CPU engine, whose scores the other tests
/// check against direct forward passes: the same log-likelihoods (to 1e-4), predictions and greedy answers, in process
/// and through `dclm eval --device`.
/// </summary>
public sealed class DeviceEvaluationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-device-").FullName;
    // dclm-tiny (vocabulary 512) with a byte-level tokenizer: the accelerator runs its head quickly.
    private readonly string _modelPath;
    private readonly LoadedModel _loaded;

    public DeviceEvaluationTests()
    {
        _modelPath = TinyByteModel.Write(Path.Combine(_directory, "model"), TinyNeoXModel.Fixture("dclm-tiny"));
        _loaded = ModelLoader.Load(_modelPath);
    }

    public void Dispose()
    {
        _loaded.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Two questions, seven choices.</summary>
    private string ChoiceTask() => Write("mc.jsonl",
        """{"query": "The capital of France is", "choices": ["Paris", "London", "a large red balloon"], "gold": 0}""",
        """{"question": "Which is a colour?", "choices": ["blue", "seven", "running", "maybe"], "answer": 0}""");

    [Fact]
    public void MultipleChoiceAndGenerationTasksScoreAsOnTheCpu()
    {
        string choices = ChoiceTask();
        string answers = Write("qa.jsonl",
            """{"context": "What is the capital of France?", "answer": "Paris", "aliases": []}""",
            """{"context": "Name a colour:", "answer": "blue", "aliases": ["red"]}""");
        var tokenizer = _loaded.RequireTokenizer();
        using var device = DeviceModel.Open(_loaded.Model, "cpu-accel");
        var onCpu = new Evaluator(_loaded.Model, tokenizer);
        var onDevice = new Evaluator(device.Model, tokenizer);
        foreach (var task in new[] { new TaskSpec { Label = "mc", DatasetPath = choices }, new TaskSpec { Label = "qa", DatasetPath = answers } })
        {
            var expected = onCpu.Run(task);
            var actual = onDevice.Run(task);
            Assert.Equal(expected.Items, actual.Items);
            for (int i = 0; i < expected.Items; i++)
            {
                var (want, got) = (expected.ItemResults[i], actual.ItemResults[i]);
                Assert.Equal(want.Output, got.Output);
                Assert.Equal(want.Predicted, got.Predicted);
                Assert.Equal(want.Choices?.Count, got.Choices?.Count);
                for (int j = 0; j < (want.Choices?.Count ?? 0); j++)
                    Assert.Equal(want.Choices![j].LogProbability, got.Choices![j].LogProbability, 1e-4 * Math.Max(1, Math.Abs(want.Choices[j].LogProbability)));
            }
            Assert.Equal(expected.Accuracy, actual.Accuracy, 12);
        }
    }

    [Fact]
    public void EvalWithDeviceWritesTheCpusScoresAndRefusesBadDevicesAndAdapters()
    {
        string task = ChoiceTask();
        double[] Run(string report, params string[] device)
        {
            var (code, _, error) = EvalCommandTests.Dclm(["eval", "--model", _modelPath, "--tasks", task, "--output", report, "--threads", "1", .. device]);
            Assert.True(code == 0, error);
            using var json = JsonDocument.Parse(File.ReadAllText(report));
            return json.RootElement.GetProperty("tasks")[0].GetProperty("item_results").EnumerateArray()
                .SelectMany(item => item.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("log_probability").GetDouble())).ToArray();
        }
        var expected = Run(Path.Combine(_directory, "cpu.json"));
        Assert.Equal(7, expected.Length);
        var actual = Run(Path.Combine(_directory, "device.json"), "--device", "cpu-accel");
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4 * Math.Max(1, Math.Abs(expected[i])));

        // No such GPU (an index no machine has, so this holds on GPU machines too), and with a device a --lora folder that
        // holds no adapter: one line each naming what is wrong (adapters themselves run on the device: LoraCommandTests).
        foreach (var (arguments, mentions) in new[] { (new[] { "--device", "cuda:99" }, "cuda:99"), (new[] { "--device", "cpu-accel", "--lora", _directory }, _directory) })
        {
            var (code, _, error) = EvalCommandTests.Dclm(["eval", "--model", _modelPath, "--tasks", task, .. arguments]);
            Assert.Equal(1, code);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains(mentions, error);
        }
    }
}
