using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dclm.Training.Alignment;

namespace Dclm.Cli.Commands;

/// <summary>`dclm score`: a reward model's accuracy on preference pairs (the fraction whose chosen side it rewards higher).</summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var rewardModel = new Option<string>("--reward-model") { Description = $"reward-model directory from dclm train-reward (adapter/ and {RewardHead.FileName})", Required = true };
        var model = ModelOptions.Model();
        var data = new Option<string>("--data") { Description = "JSON lines of preference pairs in TRL's layout (held out from training)", Required = true };
        var json = new Option<bool>("--json") { Description = "print {\"pairs\", \"accuracy\", \"loss\", \"chosen_reward\", \"rejected_reward\", \"margin\", \"rewards\": [{\"line\", \"chosen\", \"rejected\"}]}" };
        var threads = ModelOptions.Threads();
        var command = new Command("score", "Score preference pairs with a reward model and print its accuracy (chosen rewarded above rejected)")
        {
            rewardModel, model, data, json, threads,
        };
        command.SetAction((parse, interrupt) => CliErrors.RunAsync(() =>
        {
            using var reward = RewardModel.Load(parse.GetValue(rewardModel)!, parse.GetValue(model)!, parse.GetValue(threads), TemplateChatRenderer.For);
            var pairs = reward.ReadPairs(parse.GetValue(data)!, interrupt);
            // A plain line every 50 pairs on stderr: scoring a large file takes a while and Ctrl+C stops it.
            var progress = new DirectProgress<int>(done => { if (done % 50 == 0 || done == pairs.Count) Console.Error.WriteLine($"scored {done} of {pairs.Count} pairs"); });
            var terms = reward.Score(pairs, progress, interrupt);
            var s = PreferenceTrainer.Summarize(terms.Length, i => terms[i]);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    pairs = terms.Length, accuracy = s.Accuracy, loss = s.Loss, chosen_reward = s.ChosenReward, rejected_reward = s.RejectedReward, margin = s.Margin,
                    rewards = terms.Select((t, i) => new { line = pairs[i].Line, chosen = t.ChosenReward, rejected = t.RejectedReward }),
                }));
            }
            else
            {
                var c = CultureInfo.InvariantCulture;
                int wins = terms.Count(t => t.Margin > 0);
                Console.WriteLine($"accuracy {s.Accuracy.ToString("F4", c)} ({wins} of {terms.Length} pairs), loss {s.Loss.ToString("F4", c)}, " +
                    $"mean reward chosen {s.ChosenReward.ToString("F3", c)} rejected {s.RejectedReward.ToString("F3", c)}, margin {s.Margin.ToString("F3", c)}");
            }
            return Task.FromResult(0);
        }));
        return command;
    }
}
