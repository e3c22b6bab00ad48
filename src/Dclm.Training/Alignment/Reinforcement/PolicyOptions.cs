using Dclm.Training.FineTuning;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>Which policy-gradient method a run trains with.</summary>
public enum PolicyMethod
{
    /// <summary>Group-relative policy optimisation: G samples a prompt, advantages standardised within the group, no value head, KL penalty in the loss.</summary>
    Grpo,
    /// <summary>Proximal policy optimisation with a value head, GAE and the KL penalty in the per-token reward (RLHF).</summary>
    Ppo,
}

/// <summary>
/// Everything <c>dclm align --method ppo|grpo</c> is configured with: the training flags of <c>dclm finetune</c>
/// (<see cref="FineTuneOptions.Data"/> is the prompts file; --steps counts rollout batches; --batch-size × --grad-accum
/// completions make one optimizer update) and the policy-gradient settings. Defaults follow TRL's PPOTrainer and
/// GRPOTrainer where they exist.
/// </summary>
public sealed record PolicyOptions
{
    /// <summary>Model, prompts, output, adapters, schedule, checkpoints.</summary>
    public required FineTuneOptions Training { get; init; }
    /// <summary>GRPO or PPO.</summary>
    public PolicyMethod Method { get; init; } = PolicyMethod.Grpo;
    /// <summary>A shell command scoring completions (JSON lines in, one number a line out).</summary>
    public string? RewardCommand { get; init; }
    /// <summary>A reward-model directory (<c>dclm train-reward --output</c>).</summary>
    public string? RewardModel { get; init; }
    /// <summary>Longest a reward command may take for one batch.</summary>
    public TimeSpan RewardTimeout { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary>Completions sampled a prompt (GRPO's G; PPO samples one).</summary>
    public int GroupSize { get; init; } = 8;
    /// <summary>Completions sampled per rollout batch (a multiple of the group size under GRPO).</summary>
    public int Rollouts { get; init; } = 64;
    /// <summary>Longest completion, in tokens.</summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Sampling temperature of the rollouts.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>ε of the policy ratio's clip.</summary>
    public double Clip { get; init; } = 0.2;
    /// <summary>β: the KL penalty's weight (PPO: in the per-token reward; GRPO: in the loss).</summary>
    public double KlCoefficient { get; init; } = 0.05;
    /// <summary>γ of GAE (PPO).</summary>
    public double Gamma { get; init; } = 1.0;
    /// <summary>λ of GAE (PPO).</summary>
    public double GaeLambda { get; init; } = 0.95;
    /// <summary>ε of the value clip (PPO).</summary>
    public double ValueClip { get; init; } = 0.2;
    /// <summary>c_v: the value loss's weight (PPO).</summary>
    public double ValueCoefficient { get; init; } = 0.1;
    /// <summary>Passes over each rollout batch.</summary>
    public int UpdateEpochs { get; init; } = 4;

    /// <summary>Completions per prompt: the group under GRPO, one under PPO.</summary>
    public int PerPrompt => Method == PolicyMethod.Grpo ? GroupSize : 1;

    /// <summary>Checks ranges and throws naming the offending flag.</summary>
    public PolicyOptions Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Training.Validate();
        Require(Training.Method != FineTuneMethod.Full, "alignment trains adapters (the reference is the base without them)");
        Require((RewardCommand is null) != (RewardModel is null), "give one of --reward-command or --reward-model");
        Require(Method == PolicyMethod.Ppo || RewardModel is null, "--reward-model is for --method ppo; GRPO scores with --reward-command");
        Require(RewardTimeout > TimeSpan.Zero, "--reward-timeout must be positive");
        Require(GroupSize is >= 2 and <= 1024, $"--group-size {GroupSize} must be in [2, 1024]");
        Require(Rollouts >= 1 && Rollouts % PerPrompt == 0, $"--rollouts {Rollouts} must be a positive multiple of --group-size {PerPrompt}");
        Require(MaxNewTokens is >= 1 and <= 1 << 16, $"--max-new-tokens {MaxNewTokens} must be in [1, 65536]");
        Require(Temperature is > 0 and <= 2, $"--temperature {Temperature} must be in (0, 2]");
        Require(Clip is > 0 and < 1, $"--clip {Clip} must be in (0, 1)");
        Require(KlCoefficient is >= 0 and <= 100, $"--kl-coef {KlCoefficient} must be in [0, 100]");
        Require(Gamma is > 0 and <= 1, $"--gamma {Gamma} must be in (0, 1]");
        Require(GaeLambda is >= 0 and <= 1, $"--gae-lambda {GaeLambda} must be in [0, 1]");
        Require(ValueClip > 0, $"--value-clip {ValueClip} must be positive");
        Require(ValueCoefficient >= 0, $"--vf-coef {ValueCoefficient} must not be negative");
        Require(UpdateEpochs is >= 1 and <= 100, $"--update-epochs {UpdateEpochs} must be in [1, 100]");
        return this;
    }
}
