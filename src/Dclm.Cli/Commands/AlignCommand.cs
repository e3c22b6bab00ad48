using System.CommandLine;
using System.Globalization;
using Dclm.Models.Adapters;
using Dclm.Training;
using Dclm.Training.Alignment;
using Dclm.Training.Alignment.Reinforcement;
using Dclm.Training.Distributed;
using Dclm.Training.FineTuning;

namespace Dclm.Cli.Commands;

/// <summary>
/// `dclm align --method dpo|ppo|grpo`: alignment of LoRA adapters over a frozen base (LoRA or QLoRA, by the base's stored
/// type): DPO on preference pairs, or PPO and GRPO on prompts scored by a reward command or a reward model.
/// </summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        // TRL's DPOTrainer defaults where they differ from fine-tuning's: lr 5e-7 is for full weights, adapters take ~5e-6 to 5e-4.
        var defaults = new FineTuneOptions { Model = "", Data = "", Output = "", LearningRate = 5e-5, SequenceLength = 1024, BatchSize = 1, GradientAccumulation = 8, ValidationSplit = 0.05 };
        var flags = new AdapterTrainingFlags(defaults,
            "dpo: JSON lines of preference pairs in TRL's layout: {\"prompt\", \"chosen\", \"rejected\"}, strings or message lists",
            "run directory: adapter/, checkpoints/, metrics.jsonl, alignment.png",
            "dpo: longest prompt + completion kept, in tokens (longer pairs are left out)", "dpo: pairs per micro-batch; ppo/grpo: completions per pass",
            dataRequired: false);
        var method = new Option<string>("--method") { Description = "dpo (preference pairs), ppo (RLHF: value head, GAE) or grpo (group-relative, no value head)", DefaultValueFactory = _ => "dpo" };
        method.AcceptOnlyFromAmong("dpo", "ppo", "grpo");
        var beta = new Option<double>("--beta") { Description = "dpo: β, the implicit reward's scale; smaller lets the policy move further from the base", DefaultValueFactory = _ => 0.1 };
        var loss = new Option<string>("--loss") { Description = "dpo: sigmoid (DPO) or ipo", DefaultValueFactory = _ => "sigmoid" };
        loss.AcceptOnlyFromAmong("sigmoid", "ipo");
        var smoothing = new Option<double>("--label-smoothing") { Description = "dpo: conservative DPO's assumed probability that a preference is flipped (sigmoid only)" };
        var policy = new PolicyFlags();
        var command = new Command("align", "Align a model with DPO (preference pairs) or PPO/GRPO (prompts and a reward), training LoRA adapters (Ctrl+C saves a checkpoint; --resume continues)")
        {
            method, beta, loss, smoothing,
        };
        flags.AddTo(command);
        policy.AddTo(command);
        command.SetAction((parse, interrupt) =>
        {
            string chosen = parse.GetValue(method)!;
            if (chosen != "dpo") return CliErrors.RunAsync(() => Task.FromResult(RunPolicy(parse, flags, policy, chosen, interrupt)));
            return ProcessGroup.Run(group =>
            {
                if (parse.GetValue(flags.Data) is null) throw new ArgumentException("--method dpo needs --data (preference pairs)");
                var options = new DpoOptions
                {
                    Training = flags.Read(parse), Beta = parse.GetValue(beta), LabelSmoothing = parse.GetValue(smoothing),
                    Loss = parse.GetValue(loss) == "ipo" ? PreferenceLossKind.Ipo : PreferenceLossKind.Sigmoid,
                };
                var parallel = new DataParallel(group);
                parallel.LocalBatch(options.Training.BatchSize);
                var log = ProcessGroup.RootLog(parallel);
                using var run = DpoRun.Create(options, TemplateChatRenderer.For, log, interrupt, writer: parallel.IsRoot);
                var c = run.Loaded.Config;
                var o = run.Settings;
                log($"model: {c.Architecture} dim {c.Dim}, {c.Layers} layers; {o.Method.ToString().ToLowerInvariant()}: {run.Adapters.Count:N0} adapter values " +
                    $"(rank {o.Rank} on {string.Join(",", o.Targets.Select(LoraTargets.Name))}) over a frozen {string.Join("/", run.Loaded.TensorTypes.Keys.Order())} base, " +
                    $"which is also the reference; {run.TotalSteps} updates of {o.BatchSize * o.GradientAccumulation} pairs, β {options.Beta.ToString(CultureInfo.InvariantCulture)}");
                var trainer = new PreferenceTrainer(run, parallel);
                ProcessGroup.Describe(parallel, o.BatchSize, run.Optimizer.StateBytes, log);
                if (!parallel.IsRoot) return trainer.Run(null, interrupt).Interrupted ? 130 : 0;
                var result = TrainingDisplay.Run(trainer.Run, run.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(flags.Quiet), interrupt);
                return Finish(result);
            });
        });
        return command;
    }

    /// <summary>PPO or GRPO in one process.</summary>
    private static int RunPolicy(ParseResult parse, AdapterTrainingFlags flags, PolicyFlags policy, string method, CancellationToken interrupt)
    {
        if (parse.GetValue(flags.Data) is not null) throw new ArgumentException($"--method {method} reads prompts from --prompts, not --data");
        var options = policy.Read(parse, flags.Read(parse), method == "ppo" ? PolicyMethod.Ppo : PolicyMethod.Grpo);
        void Log(string line) => Console.Error.WriteLine(line);
        using var run = PolicyRun.Create(options, Log, interrupt);
        var c = run.Loaded.Config;
        var o = run.Settings;
        var p = run.Options;
        Log($"model: {c.Architecture} dim {c.Dim}, {c.Layers} layers; {o.Method.ToString().ToLowerInvariant()}: {run.Adapters.Count:N0} adapter values " +
            $"(rank {o.Rank} on {string.Join(",", o.Targets.Select(LoraTargets.Name))}) over a frozen {string.Join("/", run.Loaded.TensorTypes.Keys.Order())} base, " +
            $"which is also the reference{(run.ValueHead is null ? "" : $"; a value head of {c.Dim} values")}");
        Log($"{run.TotalSteps} rollout batches of {p.Rollouts} completions ({p.Rollouts / p.PerPrompt} prompts × {p.PerPrompt}, ≤ {p.MaxNewTokens} tokens), " +
            $"{p.UpdateEpochs} epochs of updates of {o.BatchSize * o.GradientAccumulation} completions each; rewards from the {run.Reward.Name}");
        var trainer = new PolicyTrainer(run);
        return Finish(TrainingDisplay.Run(trainer.Run, run.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(flags.Quiet), interrupt));
    }

    private static int Finish(TrainingResult result)
    {
        Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint} (continue with --resume)" : $"adapter: {result.FinalModel}");
        return result.Interrupted ? 130 : 0;
    }

    /// <summary>The flags of --method ppo and grpo.</summary>
    private sealed class PolicyFlags
    {
        private static readonly PolicyOptions Defaults = new() { Training = new FineTuneOptions { Model = "", Data = "", Output = "" } };
        public Option<string?> Prompts { get; } = new("--prompts") { Description = "ppo/grpo: JSON lines {\"prompt\": \"...\"} to sample completions for" };
        public Option<string?> RewardCommand { get; } = new("--reward-command") { Description = "ppo/grpo: shell command reading JSON lines {\"prompt\", \"completion\"} on stdin, writing one number a line" };
        public Option<string?> RewardModel { get; } = new("--reward-model") { Description = "ppo: a reward-model directory (dclm train-reward --output)" };
        public Option<double> RewardTimeout { get; } = new("--reward-timeout") { Description = "seconds a reward command may take for one batch", DefaultValueFactory = _ => Defaults.RewardTimeout.TotalSeconds };
        public Option<int> GroupSize { get; } = new("--group-size") { Description = "grpo: completions sampled a prompt", DefaultValueFactory = _ => Defaults.GroupSize };
        public Option<int> Rollouts { get; } = new("--rollouts") { Description = "ppo/grpo: completions per rollout batch (one step)", DefaultValueFactory = _ => Defaults.Rollouts };
        public Option<int> MaxNewTokens { get; } = new("--max-new-tokens") { Description = "ppo/grpo: longest completion in tokens", DefaultValueFactory = _ => Defaults.MaxNewTokens };
        public Option<double> Temperature { get; } = new("--temperature") { Description = "ppo/grpo: sampling temperature of the rollouts", DefaultValueFactory = _ => Defaults.Temperature };
        public Option<double> Clip { get; } = new("--clip") { Description = "ppo/grpo: ε of the policy ratio's clip", DefaultValueFactory = _ => Defaults.Clip };
        public Option<double> KlCoefficient { get; } = new("--kl-coef") { Description = "ppo/grpo: weight of the KL penalty to the reference (ppo: in the reward; grpo: in the loss)", DefaultValueFactory = _ => Defaults.KlCoefficient };
        public Option<double> Gamma { get; } = new("--gamma") { Description = "ppo: discount γ of GAE", DefaultValueFactory = _ => Defaults.Gamma };
        public Option<double> GaeLambda { get; } = new("--gae-lambda") { Description = "ppo: λ of GAE", DefaultValueFactory = _ => Defaults.GaeLambda };
        public Option<double> ValueClip { get; } = new("--value-clip") { Description = "ppo: ε of the value clip", DefaultValueFactory = _ => Defaults.ValueClip };
        public Option<double> ValueCoefficient { get; } = new("--vf-coef") { Description = "ppo: weight of the value loss", DefaultValueFactory = _ => Defaults.ValueCoefficient };
        public Option<int> UpdateEpochs { get; } = new("--update-epochs") { Description = "ppo/grpo: passes over each rollout batch", DefaultValueFactory = _ => Defaults.UpdateEpochs };

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Prompts, RewardCommand, RewardModel, RewardTimeout, GroupSize, Rollouts, MaxNewTokens, Temperature, Clip,
                KlCoefficient, Gamma, GaeLambda, ValueClip, ValueCoefficient, UpdateEpochs })
                command.Options.Add(option);
        }

        public PolicyOptions Read(ParseResult parse, FineTuneOptions training, PolicyMethod method)
        {
            string prompts = parse.GetValue(Prompts) ?? throw new ArgumentException($"--method {method.ToString().ToLowerInvariant()} needs --prompts");
            return new PolicyOptions
            {
                Training = training with { Data = prompts }, Method = method,
                RewardCommand = parse.GetValue(RewardCommand), RewardModel = parse.GetValue(RewardModel),
                RewardTimeout = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(RewardTimeout))), GroupSize = parse.GetValue(GroupSize),
                Rollouts = parse.GetValue(Rollouts), MaxNewTokens = parse.GetValue(MaxNewTokens), Temperature = parse.GetValue(Temperature),
                Clip = parse.GetValue(Clip), KlCoefficient = parse.GetValue(KlCoefficient), Gamma = parse.GetValue(Gamma), GaeLambda = parse.GetValue(GaeLambda),
                ValueClip = parse.GetValue(ValueClip), ValueCoefficient = parse.GetValue(ValueCoefficient), UpdateEpochs = parse.GetValue(UpdateEpochs),
            };
        }
    }
}
