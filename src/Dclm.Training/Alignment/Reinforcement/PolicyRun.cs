using System.Globalization;
using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Tensors.Compute;
using Dclm.Training.Checkpointing;
using Dclm.Training.FineTuning;
using Dclm.Training.Optimization;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>What one rollout batch gave: its sequences and their mean statistics.</summary>
/// <param name="Sequences">The rollouts, prompt by prompt (a prompt's group together).</param>
/// <param name="Reward">Mean score.</param>
/// <param name="KullbackLeibler">Mean Σ_t (ℓ_old − ℓ_ref) of a completion.</param>
/// <param name="Length">Mean completion length in tokens.</param>
public sealed record RolloutBatch(List<RolloutSequence> Sequences, double Reward, double KullbackLeibler, double Length);

/// <summary>
/// A PPO or GRPO run, resolved from <see cref="PolicyOptions"/>: the base loaded once (frozen, in its stored type),
/// LoRA adapters over it as the policy, the same base with the adapters switched off as the reference, rollouts sampled
/// by the inference decode path with the adapters served on it, rewards from a command or a reward model, a value head
/// (PPO), AdamW, the schedule, the prompt order, checkpoints and the run record a resume is checked against.
/// <see cref="PolicyTrainer"/> drives it.
/// </summary>
public sealed class PolicyRun : AdapterRun
{
    private const string PolicyRunFile = "align.json";

    private PolicyRun(PolicyOptions options, LoadedModel loaded, ComputePool pool, LoraAdapters adapters, TrainingModel model, RewardHead? valueHead,
        List<RolloutPrompt> training, List<RolloutPrompt> validation, IRewardSource reward, int length)
        : base(options.Training, loaded, pool, adapters, model, valueHead is null ? [.. model.Parameters] : [.. model.Parameters, valueHead.Weight], training.Count)
    {
        Options = options; ValueHead = valueHead; Training = training; Validation = validation; Reward = reward;
        var o = Settings;
        Objective = new PolicyObjective(model, ValueHead, o.BatchSize, length, options.Clip, options.KlCoefficient, options.ValueCoefficient, options.ValueClip);
        Sampler = new RolloutSampler(loaded, adapters);
        int prompts = options.Rollouts / options.PerPrompt;
        TotalSteps = o.Steps > 0 ? o.Steps : Math.Max(1, (int)Math.Ceiling(o.Epochs * training.Count / prompts));
        Schedule = new LearningRateSchedule(o.LearningRate, 0, o.Warmup ?? 0, TotalSteps);
    }

    /// <summary>The validated options, the training method (LoRA or QLoRA) set from the base's stored type.</summary>
    public PolicyOptions Options { get; private set; }
    /// <inheritdoc/>
    public override FineTuneOptions Settings => Options.Training;
    /// <summary>"grpo" or "ppo".</summary>
    public override string Method => Options.Method == PolicyMethod.Grpo ? "grpo" : "ppo";
    /// <summary>PPO's value head on the final hidden states; null under GRPO.</summary>
    public RewardHead? ValueHead { get; }
    /// <summary>The loss through the model.</summary>
    public PolicyObjective Objective { get; }
    /// <summary>Rollouts with the current adapters.</summary>
    public RolloutSampler Sampler { get; }
    /// <summary>Where rewards come from.</summary>
    public IRewardSource Reward { get; }
    /// <summary>Training prompts.</summary>
    public List<RolloutPrompt> Training { get; }
    /// <summary>Held-out prompts, scored by greedy completions (may be empty).</summary>
    public List<RolloutPrompt> Validation { get; }
    /// <summary>Rollout batches in the run.</summary>
    public int TotalSteps { get; }
    /// <summary>Warmup (none unless --warmup) then cosine decay to 0, one learning rate per rollout batch.</summary>
    public LearningRateSchedule Schedule { get; }
    /// <summary>AdamW updates in one step: --update-epochs passes over the rollouts, one update per --batch-size × --grad-accum of them.</summary>
    public int UpdatesPerStep => Options.UpdateEpochs * (int)Math.Ceiling((double)Options.Rollouts / (Settings.BatchSize * Settings.GradientAccumulation));

    /// <summary>
    /// Loads the base and the prompts, builds the adapters (and the value head), the reward source (<paramref name="reward"/>
    /// when given, else the options' command or reward model) and, with --resume, restores the newest checkpoint.
    /// </summary>
    public static PolicyRun Create(PolicyOptions options, Action<string>? log = null, CancellationToken cancellation = default, IRewardSource? reward = null)
    {
        options.Validate();
        var o = options.Training;
        CheckOutput(o, PolicyRunFile);
        var pool = new ComputePool(o.Threads > 0 ? o.Threads : Environment.ProcessorCount);
        LoadedModel? loaded = null;
        try
        {
            loaded = ModelLoader.Load(o.Model, pool);
            o = o with { Method = FineTuneRun.StoresQuantizedLayers(loaded) ? FineTuneMethod.QLora : FineTuneMethod.Lora, Dropout = 0 };
            FineTuneRun.CheckBaseTypes(loaded, o);
            var tokenizer = loaded.RequireTokenizer();
            var prompts = PromptSet.Read(o.Data, tokenizer, cancellation);
            var (training, validation) = o.ValidationData is not null ? (prompts, PromptSet.Read(o.ValidationData, tokenizer, cancellation)) : PairOrder.Split(prompts, o.ValidationSplit, o.Seed);
            int context = loaded.Config.ContextLength;
            foreach (var p in training.Concat(validation))
                if (p.Tokens.Length + options.MaxNewTokens > context)
                    throw new InvalidDataException($"{o.Data}:{p.Line}: a prompt of {p.Tokens.Length} tokens and --max-new-tokens {options.MaxNewTokens} exceed the model's context of {context}");
            log?.Invoke($"{o.Data}: {training.Count} training prompts, {validation.Count} held out");
            var adapters = LoraAdapters.Create(loaded.Config, new LoraSettings { Rank = o.Rank, Alpha = o.Alpha, Dropout = 0, Targets = o.Targets }, o.Seed);
            var model = FrozenBaseModel.Build(loaded.Config, loaded.Model.Weights, adapters, pool);
            model.GradientCheckpointing = o.GradientCheckpointing;
            reward ??= options.RewardCommand is { } command ? new RewardCommand(command, options.RewardTimeout)
                : new RewardModelSource(RewardModel.Load(options.RewardModel!, o.Model, o.Threads), options.RewardModel!);
            // A rollout holds at most the longest prompt and --max-new-tokens; it runs one position fewer.
            int length = training.Concat(validation).Max(p => p.Tokens.Length) + options.MaxNewTokens - 1;
            var valueHead = options.Method == PolicyMethod.Ppo ? RewardHead.Create(loaded.Config.Dim, o.Seed ^ 0x7A1UL) : null;
            var run = new PolicyRun(options with { Training = o }, loaded, pool, adapters, model, valueHead, training, validation, reward, length);
            run.Start(log);
            return run;
        }
        catch
        {
            reward?.Dispose();
            loaded?.Dispose();
            pool.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rollout batch <paramref name="step"/>: the next prompts, <see cref="PolicyOptions.PerPrompt"/> completions each
    /// sampled with the current adapters (seeded by the run's seed, the step and the completion, so a resumed run draws
    /// the same ones), their rewards, the policy's and the reference's log-probabilities (and PPO's values), and the advantages.
    /// </summary>
    public RolloutBatch Collect(int step, CancellationToken cancellation = default)
    {
        var o = Options;
        int prompts = o.Rollouts / o.PerPrompt;
        var sequences = new List<RolloutSequence>(o.Rollouts);
        var texts = new List<ScoredText>(o.Rollouts);
        for (int p = 0; p < prompts; p++)
        {
            var prompt = Training[Order.Next()];
            for (int g = 0; g < o.PerPrompt; g++)
            {
                int i = sequences.Count;
                var sampling = new SamplingOptions
                {
                    Temperature = (float)o.Temperature, TopK = 0, TopP = 1, MinP = 0, MaxTokens = o.MaxNewTokens,
                    Seed = Settings.Seed ^ ((ulong)step << 24) ^ (ulong)i ^ 0x5A3D1E0UL,
                };
                var completion = Sampler.Sample(prompt.Tokens, sampling, cancellation);
                if (completion.Tokens.Length == 0) completion = completion with { Tokens = [Loaded.RequireTokenizer().EndOfSequenceId ?? 0] };
                var sequence = new RolloutSequence([.. prompt.Tokens, .. completion.Tokens], prompt.Tokens.Length) { Prompt = Training.IndexOf(prompt), Completion = completion.Text };
                sequences.Add(sequence);
                texts.Add(new ScoredText(prompt.Text, completion.Text, sequence.Tokens));
            }
        }
        var scores = Reward.Score(texts, cancellation);
        for (int i = 0; i < sequences.Count; i++) sequences[i].Score = scores[i];
        Measure(sequences, cancellation);
        Advantages(sequences);
        return new RolloutBatch(sequences, scores.Average(), sequences.Average(s => s.KullbackLeibler), sequences.Average(s => (double)s.Actions));
    }

    /// <summary>Greedy completions of the held-out prompts: their mean reward and mean KL to the reference; null without held-out prompts.</summary>
    public (double Reward, double KullbackLeibler, List<string> Completions)? EvaluateGreedy(CancellationToken cancellation = default)
    {
        if (Validation.Count == 0) return null;
        var options = SamplingOptions.Greedy with { MaxTokens = Options.MaxNewTokens };
        var sequences = new List<RolloutSequence>();
        var texts = new List<ScoredText>();
        foreach (var prompt in Validation)
        {
            var completion = Sampler.Sample(prompt.Tokens, options, cancellation);
            if (completion.Tokens.Length == 0) completion = completion with { Tokens = [Loaded.RequireTokenizer().EndOfSequenceId ?? 0] };
            var sequence = new RolloutSequence([.. prompt.Tokens, .. completion.Tokens], prompt.Tokens.Length) { Completion = completion.Text };
            sequences.Add(sequence);
            texts.Add(new ScoredText(prompt.Text, completion.Text, sequence.Tokens));
        }
        var scores = Reward.Score(texts, cancellation);
        Objective.Measure(sequences, s => s.OldLogProbabilities, null, cancellation);
        WithoutAdapters(() => Objective.Measure(sequences, s => s.ReferenceLogProbabilities, null, cancellation));
        return (scores.Average(), sequences.Average(s => s.KullbackLeibler), texts.Select(t => t.Completion).ToList());
    }

    /// <summary>Call after the trainable values changed: the training graph's caches and the served adapter.</summary>
    public override void ParametersChanged()
    {
        base.ParametersChanged();
        Sampler.Refresh();
    }

    /// <summary>ℓ_old (and V_old) with the adapters on, ℓ_ref with them off.</summary>
    private void Measure(List<RolloutSequence> sequences, CancellationToken cancellation)
    {
        Objective.Measure(sequences, s => s.OldLogProbabilities, ValueHead is null ? null : s => s.OldValues, cancellation);
        WithoutAdapters(() => Objective.Measure(sequences, s => s.ReferenceLogProbabilities, null, cancellation));
    }

    /// <summary>GRPO: the group-relative advantage on every token. PPO: GAE over −β(ℓ_old − ℓ_ref) + the score on the last token, whitened over the batch.</summary>
    private void Advantages(List<RolloutSequence> sequences)
    {
        var o = Options;
        if (o.Method == PolicyMethod.Grpo)
        {
            var scores = sequences.Select(s => s.Score).ToArray();
            var advantages = new double[scores.Length];
            PolicyLoss.GroupAdvantages(scores, o.GroupSize, advantages);
            for (int i = 0; i < sequences.Count; i++) Array.Fill(sequences[i].Advantages, advantages[i]);
            return;
        }
        foreach (var s in sequences)
        {
            var rewards = new double[s.Actions];
            for (int j = 0; j < s.Actions; j++) rewards[j] = -o.KlCoefficient * (s.OldLogProbabilities[j] - s.ReferenceLogProbabilities[j]);
            rewards[^1] += s.Score;
            PolicyLoss.Gae(rewards, s.OldValues, o.Gamma, o.GaeLambda, s.Advantages, s.Returns);
        }
        var all = sequences.SelectMany(s => s.Advantages).ToArray();
        PolicyLoss.Whiten(all);
        int k = 0;
        foreach (var s in sequences)
            for (int j = 0; j < s.Actions; j++) s.Advantages[j] = all[k++];
    }

    private void WithoutAdapters(Action action)
    {
        foreach (var adapter in Adapters.All) adapter.Enabled = false;
        try { action(); }
        finally { foreach (var adapter in Adapters.All) adapter.Enabled = true; }
    }

    /// <inheritdoc/>
    protected override string RunFile => PolicyRunFile;

    /// <summary>A step (one rollout batch) makes several AdamW updates: its bias correction counts updates, not steps.</summary>
    protected override void Restored(TrainerState state) => Optimizer.Steps = state.Step * (long)UpdatesPerStep;

    /// <inheritdoc/>
    protected override Dictionary<string, string> MethodRecord()
    {
        var o = Options;
        var c = CultureInfo.InvariantCulture;
        var record = new Dictionary<string, string>();
        record["reward"] = o.RewardCommand ?? Path.GetFullPath(o.RewardModel!);
        record["group_size"] = o.PerPrompt.ToString(c);
        record["rollouts"] = o.Rollouts.ToString(c);
        record["max_new_tokens"] = o.MaxNewTokens.ToString(c);
        record["temperature"] = o.Temperature.ToString("R", c);
        record["clip"] = o.Clip.ToString("R", c);
        record["kl_coef"] = o.KlCoefficient.ToString("R", c);
        record["gamma"] = o.Gamma.ToString("R", c);
        record["gae_lambda"] = o.GaeLambda.ToString("R", c);
        record["update_epochs"] = o.UpdateEpochs.ToString(c);
        return record;
    }

    /// <summary>Releases the reward source, then the base and the compute threads.</summary>
    public override void Dispose()
    {
        Reward.Dispose();
        base.Dispose();
    }
}
