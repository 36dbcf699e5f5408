"""The metrics each notebook records and the full-mode targets they are held to: the one place for both.

The harness (``python -m aeutils.run --check``) fails when a target is missed or an expected metric is
missing. ``nbNN.wall_s`` is the notebook's wall time, measured by the harness itself.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

FULL_MODE_SECONDS = 360  # 6 minutes per notebook on the project's 2-core machine

METRICS: dict[str, dict[str, str]] = {
    "01_autoencoder_basics": {
        **{f"nb01.ae_mse_L{k}": f"dense AE test MSE, code size {k}" for k in (2, 8, 32, 64)},
        **{f"nb01.pca_mse_L{k}": f"PCA test MSE, {k} components" for k in (2, 8, 32, 64)},
        **{f"nb01.ae_pca_ratio_L{k}_val": f"dense AE / PCA validation MSE, code size {k}" for k in (2, 8, 32, 64)},
        "nb01.toy_mse": "64→2→64 toy AE, test MSE on held-out 8×8 digits",
    },
    "02_convolutional_autoencoders": {
        "nb02.conv_mse_L32": "conv AE test MSE, code size 32, mean over seeds",
        "nb02.conv_mse_L64": "conv AE test MSE, code size 64",
        "nb02.conv_pca_ratio_L64_val": "conv AE / PCA validation MSE, code size 64",
        "nb02.dense_mse_L32": "notebook 01's dense AE test MSE, code size 32, the conv AE's epochs, mean over seeds",
        "nb02.dense_equal_time_mse_L32": "the same dense AE given the conv AE's wall time, test MSE, mean over seeds",
        "nb02.pca_mse_L64": "PCA test MSE, 64 components",
        "nb02.epoch_s_conv": "seconds per training epoch, conv AE L=32",
        "nb02.epoch_s_dense": "seconds per training epoch, dense AE L=32",
    },
    "03_denoising_autoencoders": {
        **{f"nb03.psnr_{who}_{key}": f"mean test PSNR (dB), {what}, {level}"
           for who, what in (("noisy", "noisy input"), ("classical_best", "best tuned classical denoiser"),
                             ("dae", "denoising AE"))
           for key, level in (("s01", "σ=0.1"), ("s03", "σ=0.3"), ("s05", "σ=0.5"), ("mask", "masking 50%"))
           if not (who == "noisy" and key == "mask")},
        **{f"nb03.psnr_{who}_{key}_val": f"mean validation PSNR (dB), {what}, {level}"
           for who, what in (("classical_best", "best classical tool (tuned and chosen on validation)"),
                             ("dae", "denoising AE"))
           for key, level in (("s01", "σ=0.1"), ("s03", "σ=0.3"), ("s05", "σ=0.5"), ("mask", "masking 50%"))},
        "nb03.psnr_dae_mask_told_val": "mean validation PSNR, masking, the DAE's output with the observed pixels kept",
        "nb03.psnr_dae_mask_told": "mean test PSNR, masking, the DAE's output with the observed pixels kept",
        "nb03.psnr_inpainting_mask_val": "mean validation PSNR, masking, biharmonic inpainting told the mask",
        "nb03.psnr_filter_best_mask_val": "mean validation PSNR, masking, the best of the four tuned filters",
        "nb03.ssim_dae_s03": "mean test SSIM, denoising AE, σ=0.3",
        "nb03.ssim_classical_best_s03": "mean test SSIM, best tuned classical denoiser, σ=0.3",
    },
    "04_sparse_and_contractive_autoencoders": {
        "nb04.probe_acc_raw": "linear probe test accuracy, raw pixels (784), C chosen on validation, N_PROBE images",
        "nb04.probe_acc_pca32": "linear probe test accuracy, PCA-32, N_PROBE images",
        **{f"nb04.probe_acc_wide_{k}": f"linear probe test accuracy, section 2's wide {name} code (784 units)"
           for k, name in (("plain", "plain"), ("l1", "L1-sparse"), ("kl", "KL-sparse"))},
        **{f"nb04.probe_acc_{k}32{suffix}": f"linear probe {split} accuracy, {name} 32-unit code, mean over 3 seeds"
           for k, name in (("ae", "plain"), ("sparse", "L1-sparse"), ("kl", "KL-sparse"),
                           ("contractive", "contractive"), ("denoising", "denoising"))
           for suffix, split in (("", "test"), ("_val", "validation"))},
        "nb04.probe_acc_best32": "linear probe test accuracy, the 32-unit code chosen on validation, mean over seeds",
        "nb04.gamma": "exponent γ of the intensity curve x**γ, chosen on validation by a PCA-32 probe",
        "nb04.probe_acc_pca32_gamma": "linear probe test accuracy, PCA-32 of x**γ",
        "nb04.probe_acc_plain32_gamma": "linear probe test accuracy, plain code trained on x**γ, mean over seeds",
        "nb04.probe_acc_100labels_raw": "linear probe, 100 labels per class, raw pixels, mean over 3 draws",
        "nb04.probe_acc_100labels_pca32": "linear probe, 100 labels per class, PCA-32, mean over 3 draws",
        "nb04.probe_acc_100labels_plain32": "linear probe, 100 labels per class, frozen plain code, mean over 3 draws",
        **{f"nb04.acc_100labels_{k}{suffix}": f"{split} accuracy, 100 labels per class, {what}, mean over 3 draws"
           for k, what in (("finetuned", "pretrained encoder fine-tuned with a softmax layer"),
                           ("scratch", "the same network trained from scratch"))
           for suffix, split in (("", "test"), ("_val", "validation"))},
        "nb04.sensitivity_ae": "random-direction gain of the code (= ||J||_F/28), plain sigmoid code, test images",
        "nb04.sensitivity_cae": "random-direction gain of the code, contractive code (λ chosen on validation)",
        "nb04.data_random_ratio_ae": "mean gain along data directions / along random directions, plain code",
        "nb04.data_random_ratio_cae": "mean gain along data directions / along random directions, contractive code",
        **{f"nb04.recon_mse_{k}{suffix}": f"{split} MSE, {name} code, mean over seeds"
           for k, name in (("ae", "plain sigmoid"), ("cae", "contractive"))
           for suffix, split in (("", "test"), ("_val", "validation"))},
        "nb04.mean_activation_kl": "mean code activation of section 2's wide KL-sparse AE (ρ = 0.05)",
    },
    "05_anomaly_detection": {
        **{f"nb05.auroc_mean_{k}{suffix}": f"one-class {split} AUROC, mean over the ten classes, {what}"
           for k, what in (("ae", "AE reconstruction MSE (label-free)"),
                           ("ae_compressed", "AE MSE calibrated on compressed size alone (label-free)"),
                           ("ae_blur", "AE MSE blurred with the chosen σ, not calibrated"),
                           ("best", "AE score chosen on the development split (declared best)"),
                           ("pca", "PCA at 90% variance, MSE (label-free)"),
                           ("pca_chosen", "PCA, components and score chosen on the development split"),
                           ("iforest", "IsolationForest, scikit-learn defaults but 200 trees (label-free)"),
                           ("iforest_chosen", "IsolationForest, max_samples chosen on the development split"),
                           ("ocsvm", "OneClassSVM, scikit-learn defaults nu=0.5, gamma='scale' (label-free)"),
                           ("ocsvm_chosen", "OneClassSVM, nu and gamma chosen on the development split"))
           for suffix, split in (("", "test"), ("_val", "held-out validation (threshold part vs held-out "
                                                      "development anomalies)"))},
        **{f"nb05.auroc_class{c}_best": f"one-class test AUROC, class {c} normal, declared AE score"
           for c in range(10)},
        "nb05.ap_mean_best": "average precision (anomaly = positive), mean over classes, declared AE score",
        "nb05.recall_anomaly_at_threshold": "test anomaly recall at the threshold part's 95% quantile, class mean",
        "nb05.false_alarm_at_threshold": "test false-alarm rate at that threshold (planned 0.05), mean over classes",
        **{f"nb05.auroc_mean_{k}_contaminated": f"mean test AUROC, {what}, 5% of training images anomalous"
           for k, what in (("best", "declared AE score"), ("pca_chosen", "chosen PCA"),
                           ("iforest_chosen", "chosen IsolationForest"), ("ocsvm_chosen", "chosen OneClassSVM"))},
        "nb05.seed_sd_auroc_best_val": "seed-to-seed sd of one class's held-out validation AUROC, declared AE score, "
                                       "3 seeds, pooled over SEED_CLASSES",
        "nb05.seed_sd_auroc_best": "the same on the test set",
        **{f"nb05.chosen_ae_uses_{k}": f"1 if the declared AE score calibrates on the {what}, else 0 (a choice)"
           for k, what in (("energy", "energy"), ("tv", "total variation"), ("compressed", "compressed size"))},
        "nb05.chosen_ae_sigma": "blur width σ (pixels) of the declared AE score (a choice)",
        "nb05.chosen_pca_components": "PCA's number of components (a choice)",
        "nb05.chosen_pca_sigma": "PCA's blur width σ (a choice)",
        "nb05.chosen_iforest_max_samples": "IsolationForest's max_samples (a choice; 1.0 = all images)",
        "nb05.chosen_ocsvm_nu": "one-class SVM's nu (a choice)",
        "nb05.chosen_ocsvm_gamma_x_scale": "one-class SVM's gamma in multiples of gamma='scale' (a choice)",
    },
    "06_variational_autoencoders": {
        # binarised Fashion-MNIST (dynamic binarisation for training, fixed seeded binarisation of validation/test):
        # every −ELBO and IW bound is an upper bound on a true −log p(x), nats per image
        "nb06.neg_elbo_test": "dense VAE L=16, β=1 (the headline model, fixed beforehand), test −ELBO, one posterior "
                              "sample per image, "
                              "nats (binarised test images)",
        "nb06.iw_nll_test": "same VAE, importance-weighted bound on −log p(x), k=100, test, nats per image",
        "nb06.iw_nll_test_k1000": "same VAE, importance-weighted bound, k=1000, first N_IW_MAX (500) test images",
        "nb06.kl_test": "same VAE, test KL term (the rate), nats per image",
        "nb06.neg_elbo_val": "same VAE, validation −ELBO, one sample per image, after the last epoch",
        "nb06.active_units": "same VAE, latent units with Var_x(μ) > 0.01 on validation images (of 16)",
        "nb06.cb_log_norm_test": "continuous Bernoulli normaliser Σ log C(λ) on the same VAE's test logits, nats "
                                 "per image: what cross-entropy on grey pixels leaves out",
        **{f"nb06.fd_{k}": f"Fréchet distance (shipped classifier's features) of {what} against training images"
           for k, what in (("floor", "test images (the floor)"), ("vae_prior", "the VAE's prior samples (means)"),
                           ("vae_pixels", "the VAE's prior samples (Bernoulli pixels)"),
                           ("ae_gaussian", "the plain AE (same layers, epochs) + one Gaussian fitted to its codes"),
                           ("ae_gmm", "the plain AE + a Gaussian mixture (size chosen on validation codes)"),
                           ("ae_box", "the plain AE + uniform draws from its codes' 1–99 % box"),
                           ("vae_gmm", "the VAE's decoder means from a Gaussian mixture fitted to its means μ(x)"))},
        "nb06.coverage_vae_prior": "classes (of 10) holding ≥ 5 % of the VAE's prior samples",
        "nb06.neg_elbo_L2_val": "dense VAE L=2, validation −ELBO, nats per image",
        "nb06.iw_nll_L2_val": "dense VAE L=2, IW bound k=100, first N_IW_L2 (300) validation images",
        "nb06.neg_elbo_kerasio_L2_val": "keras.io VAE architecture (conv 32/64, Dense 16, L=2), same wall time, "
                                        "optimiser and schedule, validation −ELBO",
        "nb06.iw_nll_kerasio_L2_val": "keras.io VAE, IW bound k=100, first N_IW_L2 (300) validation images",
        "nb06.neg_elbo_test_L2": "dense VAE L=2, test −ELBO, nats per image",
        "nb06.iw_nll_test_L2": "dense VAE L=2, IW bound k=100, first N_IW_L2 (300) test images",
        "nb06.neg_elbo_test_kerasio_L2": "keras.io VAE L=2 (same wall time), test −ELBO, nats per image",
        "nb06.iw_nll_test_kerasio_L2": "keras.io VAE L=2, IW bound k=100, first N_IW_L2 (300) test images",
    },
    "07_exploring_the_latent_space": {
        "nb07.neg_elbo_val_large": "conv VAE, latent 16, validation −ELBO, nats per binarised image",
        "nb07.neg_elbo_test_large": "conv VAE, latent 16, test −ELBO, nats per binarised image",
        "nb07.kl_test_large": "same VAE, test KL term (the rate), nats per image",
        "nb07.epoch_s": "conv VAE (latent 16), seconds per training epoch",
        "nb07.fd_floor": "test images vs training images, Fréchet distance in the classifier's features (the floor)",
        "nb07.fd_prior_means": "conv VAE L=16, prior samples (decoder means), Fréchet distance to training images, "
                               "mean of 3 sample seeds",
        "nb07.fd_gmm_means": "same decoder fed from a Gaussian mixture fitted to the codes, Fréchet distance, "
                             "mean of 3 sample seeds",
        "nb07.prior_coverage": "conv VAE L=16, prior samples (not test images): classes holding ≥ 5 % of them",
        "nb07.attribute_to_target": "test sneakers + (boot − sneaker) vector: share the classifier calls ankle boots",
        "nb07.random_to_target": "test sneakers + random vectors of the same length: the same share, mean",
        **{f"nb07.{name}_L2_{kind}": f"dense VAE L=2, {kind} decoder: {what}"
           for kind in ("factorised", "autoregressive")
           for name, what in (("neg_elbo_val", "validation −ELBO, nats"), ("neg_elbo_test", "test −ELBO, nats"),
                              ("iw_nll_test", "importance-weighted bound (k=100, 1000 test images), nats"),
                              ("kl_test", "test KL term (the rate), nats"),
                              ("knn_acc", "15-NN class accuracy of the 2-d posterior means"),
                              ("class_kept_from_mu",
                               "share of 1000 test images whose decoding from μ alone (mean of 16 draws) keeps "
                               "its class"))},
        "nb07.sample_s_naive": "12 autoregressive samples, one decoder call per pixel, seconds",
        "nb07.sample_s_fast": "the same 12 samples, z-path once + one NumPy update per pixel, seconds",
        "nb07.fd_sampled_L2_factorised": "dense VAE L=2, factorised: sampled prior images (not test images), Fréchet "
                                          "distance to binarised training images",
        "nb07.fd_sampled_L2_autoregressive": "dense VAE L=2, autoregressive: sampled prior images (not test images), "
                                              "Fréchet distance to binarised training images",
    },
    "08_compression": {
        "nb08.roundtrip_mismatched_pixels": "pixels where decode(encode(x)) differs from the in-memory reconstruction, "
                                            "validation images, every rate point",
        **{f"nb08.{k}{suffix}": f"{what}, {split}" for k, what in (
            ("gain_jpeg_scan_q1", "AE − JPEG scan PSNR (dB) at JPEG quality 1's scan bytes"),
            ("gain_jpeg_scan_q5", "AE − JPEG scan PSNR (dB) at JPEG quality 5's scan bytes"),
            ("gain_jpeg_optscan_q1", "AE − JPEG scan with optimised Huffman tables, PSNR (dB) at quality 1's bytes"),
            ("gain_jpeg_optscan_q5", "AE − JPEG scan with optimised Huffman tables, PSNR (dB) at quality 5's bytes"),
            ("min_gain_jpeg_scan_below100", "smallest AE − JPEG scan PSNR (dB) over JPEG's settings below 100 bytes "
                                            "(the set fixed on validation)"),
            ("min_gain_jpeg_optscan_below100", "the same, against JPEG's scan with optimised Huffman tables"),
            ("min_gain_pca", "smallest AE − PCA (same quantiser and coder) PSNR (dB) over the AE's rate points "
                             "inside PCA's range of sizes (hull against hull)"),
            ("webp_crossover_bytes", "bytes per image above which WebP's best PSNR (whole files) exceeds the AE's"),
            ("webp_payload_crossover_bytes", "the same, WebP counted without the 27 bytes every file repeats"),
            ("jpeg_scan_crossover_bytes", "bytes per image above which JPEG's scan's best PSNR exceeds the AE's"))
           for suffix, split in (("", "test"), ("_val", "validation"))},
        **{f"nb08.gain_jpeg_{c}_q{q}_se": f"paired bootstrap standard error (dB) of nb08.gain_jpeg_{c}_q{q}, test"
           for c in ("scan", "optscan") for q in (1, 5)},
        "nb08.ae_psnr_unrounded_last": "decoder fed the unrounded code at the lowest λ's gain, mean PSNR (dB), test",
        **{f"nb08.gain_ssim_jpeg_scan_q{q}": f"AE − JPEG scan SSIM at JPEG quality {q}'s scan bytes, test"
           for q in (1, 5)},
        **{f"nb08.ae_{m}_r{k}": f"AE codec, rate point {k} (λ index), test: {what}"
           for k in range(5) for m, what in (("bytes", "bytes per image, header included"),
                                             ("psnr", "mean per-image PSNR (dB)"), ("ssim", "mean SSIM"))},
        **{f"nb08.jpeg_{m}_q{q}": f"JPEG quality {q}, test: {what}"
           for q in (1, 5, 10, 20) for m, what in (("scan_bytes", "entropy-coded scan bytes per image"),
                                                   ("opt_scan_bytes", "scan bytes per image, optimised Huffman tables"),
                                                   ("file_bytes", "whole-file bytes per image"),
                                                   ("psnr", "mean per-image PSNR (dB)"), ("ssim", "mean SSIM"))},
        **{f"nb08.webp_{m}_q{q}": f"WebP quality {q}, whole files, test: {what}"
           for q in (0, 10, 30) for m, what in (("bytes", "bytes per image"),
                                                ("payload", "bytes per image less the 27 every file repeats"),
                                                ("psnr", "mean per-image PSNR (dB)"),
                                                ("ssim", "mean SSIM"))},
        **{f"nb08.ood_{k}_{m}": f"AE codec at its middle rate point, {name}: {what}"
           for k, name in (("digits", "scikit-learn digits upsampled"), ("turned", "test garments turned 90°"))
           for m, what in (("bytes", "bytes per image"), ("psnr", "mean PSNR (dB)"),
                           ("margin_jpeg_scan", "AE − JPEG scan PSNR (dB) at the AE's bytes"),
                           ("clipped", "fraction of code numbers clipped to the coder tables' range"))},
    },
    "09_conditional_and_vector_quantized_autoencoders": {
        "nb09.neg_elbo_cvae_val": "chosen conditional VAE (conv, β = 1), validation −ELBO of log p(x | c), nats",
        "nb09.neg_elbo_vae_val": "notebook 07's conv VAE trained here, validation −ELBO, nats",
        "nb09.latent_chosen": "code size L of the conditional VAE, chosen on validation by the stated rule",
        "nb09.kl_cvae_val": "chosen conditional VAE: validation KL (the code's style budget), nats",
        "nb09.swap_acc_val": "class-swapped decodes of validation codes labelled as the asked-for class (classifier)",
        "nb09.style_ink_val": "class swaps: Spearman correlation of ink mass, source vs swap, within source class, "
                              "mean over class pairs, validation",
        "nb09.style_width_val": "class swaps: Spearman correlation of bounding-box width, source vs swap, validation",
        "nb09.style_ink_test": "class swaps: Spearman correlation of ink mass, source vs swap, test",
        "nb09.classifier_ceiling_test": "the classifier on real test images (the ceiling of the swap accuracy)",
        "nb09.cvae_samples_asked_class": "class-conditional prior samples labelled as asked, mean over classes",
        "nb09.cvae_fd_per_class_mean": "class-conditional samples vs training images of their class, FD, class mean",
        "nb09.fd_vae_prior": "conv VAE (notebook 07's settings, trained here) prior samples (decoder means), FD vs "
                             "training images, mean over seeds",
        **{f"nb09.{m}_{k}_val": f"VQ-VAE, {name}, validation: {what}"
           for k, name in (("nofix", "no dead-code fix"), ("fix", "dead-code fix"))
           for m, what in (("codes_used", "share of the codebook used"), ("perplexity", "codebook perplexity"),
                           ("vq_rec", "−log p(x | z_q), nats"))},
        "nb09.prior_nats_val": "PixelCNN prior, −log p(code grid), nats per validation image",
        "nb09.fd_vq_prior": "VQ-VAE decoder on PixelCNN samples (decoder means), FD vs training images, seed mean",
        "nb09.fd_vq_reconstructions": "VQ-VAE reconstructions of validation images, FD vs training images",
        "nb09.fd_floor": "test images vs training images, FD (the floor)",
        "nb09.neg_elbo_cvae_test": "conditional VAE, test −ELBO of log p(x | class), nats",
        "nb09.swap_acc_test": "class-swapped decodes of test codes labelled as the asked-for class",
        "nb09.vq_rec_test": "VQ-VAE with the fix, test −log p(x | z_q), nats",
        "nb09.prior_nats_test": "PixelCNN prior, −log p(code grid) of test images, nats",
        "nb09.epoch_s_vqvae": "VQ-VAE with the fix, seconds per training epoch",
    },
    "10_latent_diffusion": {
        "nb10.vae_neg_elbo_val": "conv VAE L=16 (notebook 07's, trained here), validation −ELBO, nats per image",
        "nb10.vae_epoch_s": "conv VAE, seconds per training epoch",
        "nb10.denoiser_step_ms": "latent MLP denoiser, milliseconds per training step",
        "nb10.pixel_over_latent_step": "seconds per sampling step: pixel conv encoder+decoder pass / latent MLP",
        **{f"nb10.{m}_{key}{suffix}": f"{name} (decoder means, mean over sampling seeds) vs {split} images: {what}"
           for key, name in (("prior", "VAE prior N(0, I)"), ("gmm", "Gaussian mixture on the codes"),
                             ("diffusion", "latent diffusion, sampler chosen on validation"),
                             ("ddpm", "latent diffusion, DDPM's full chain"),
                             ("codes_widened", "training codes widened by the factor chosen on validation"))
           for m, what in (("fd", "Fréchet distance"), ("recall", "recall"), ("precision", "precision"))
           for suffix, split in (("_val", "validation"), ("", "test"))},
        **{f"nb10.fd_floor{suffix}": f"training images vs {split} images, Fréchet distance (the floor)"
           for suffix, split in (("_val", "validation"), ("", "test"))},
    },
    "11_molecules": {
        **{f"nb11.decoder_{k}_{m}_val": f"section 4's SELFIES VAE, {name} decoder: {what}"
           for k, name in (("tf", "teacher-forced"), ("code", "code-only"))
           for m, what in (("kl", "validation KL (nats per molecule)"), ("active", "validation active units"),
                           ("exact", "exact greedy reconstructions of validation molecules"),
                           ("similarity", "mean Tanimoto of validation molecules to their greedy reconstructions"),
                           ("validity", "validity of prior samples"), ("uniqueness", "uniqueness of prior samples"))},
        "nb11.epoch_s_selfies": "section 4's teacher-forced SELFIES VAE, seconds per training epoch",
        **{f"nb11.shipped_{r}_{m}_val": f"shipped {r.upper()} VAE (40 epochs, scripts/train_molecule_vae.py): {what}"
           for r in ("smiles", "selfies")
           for m, what in (("kl", "validation KL (nats per molecule)"), ("active", "validation active units"),
                           ("exact", "exact greedy reconstructions of validation molecules"),
                           ("similarity", "mean Tanimoto of validation molecules to their greedy reconstructions"),
                           ("shuffled", "the same reconstructions scored against other validation molecules"),
                           ("validity", "validity of prior samples"), ("uniqueness", "uniqueness of prior samples"))},
        **{f"nb11.{r}_{m}": f"shipped {r.upper()} VAE, 1 000 prior samples (sampled tokens): {what}"
           for r in ("smiles", "selfies")
           for m, what in (("validity", "fraction RDKit parses"), ("uniqueness", "distinct among the valid"),
                           ("novelty", "distinct valid ones absent from the training file"),
                           ("internal_diversity", "1 − mean Tanimoto (Morgan r=2) over pairs"))},
        "nb11.interpolation_validity": "SELFIES VAE, valid molecules along the line from diazepam to paracetamol",
        "nb11.qed_gain_val": "mean QED of the decoded valid molecules after − before gradient steps on the code, "
                             "the lowest-QED validation molecules",
        "nb11.opt_validity_end_val": "validity of the decoded molecules after the last gradient step",
        "nb11.qed_gain_search_val": "mean QED of the decoded valid molecules after − before a local search in the "
                                    "latent space guided by RDKit's QED, the same starting codes",
        "nb11.search_similarity_val": "local search: mean Tanimoto of each final molecule to its decoded start",
        "nb11.prior_best_similarity_val": "best of as many prior samples (same oracle calls): mean Tanimoto to the "
                                          "decoded start",
        **{f"nb11.{r}_reconstruction_test": f"{r.upper()} VAE, exact canonical reconstructions of test molecules"
           for r in ("smiles", "selfies")},
        **{f"nb11.{r}_wasserstein_{k}_test": f"{r.upper()} VAE prior samples vs test molecules, Wasserstein of {k}"
           for r in ("smiles", "selfies") for k in ("QED", "logP", "MW")},
    },
    "A1_training_on_many_devices": {
        "nbA1.unscaled_step_ratio_2": "naive train_step (batch mean), one SGD step on 2 replicas / on 1 device",
        "nbA1.step_gap_relative": "corrected VAE, one SGD step: max |Δw(2 replicas) − Δw(1 device)| / max |Δw|",
        "nbA1.neg_elbo_one_device_val": "validation −ELBO after the same epochs on 1 device, mean over seeds",
        "nbA1.neg_elbo_two_replicas_val": "validation −ELBO after the same epochs on 2 replicas, mean over seeds",
        **{f"nbA1.images_per_s_r{n}": f"training images per second, MirroredStrategy with {n} replica(s)"
           for n in (1, 2, 4)},
    },
}

# Metrics measured on no data split, with what they are measured on: notebook 11's MOSES metrics of prior samples
# and its path between two drugs.
SPLIT_OVERRIDES = {**{f"nb11.{r}_{m}": "prior samples" for r in ("smiles", "selfies")
                      for m in ("validity", "uniqueness", "novelty", "internal_diversity")},
                   "nb11.interpolation_validity": "two drugs"}


def split_of(metric: str) -> str:
    """The data split a metric is measured on, read from its name: ``…_val`` is validation, ``…_s``/``wall_s``
    are seconds, :data:`SPLIT_OVERRIDES` say what theirs are measured on, anything else is the test set (or, for
    settings such as ``nb04.gamma``, a choice)."""
    if metric in SPLIT_OVERRIDES:
        return SPLIT_OVERRIDES[metric]
    if metric.endswith("_val") or "_val_" in metric:
        return "validation"
    if metric.endswith("wall_s") or metric.split(".")[-1].startswith("epoch_s"):
        return "time"
    return "test"


_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Target:
    """``metric`` (divided by ``per``, or minus ``minus``, when given) must satisfy ``op bound`` in full mode.

    With ``lowest_of``, the quantity is the lowest of ``metric`` and those metrics, whichever notebook recorded
    them (the harness passes every notebook's latest full-mode metrics): "the best model of notebooks 06–07"."""

    label: str
    metric: str
    op: str
    bound: float
    per: str | None = None
    minus: str | None = None
    lowest_of: tuple[str, ...] = ()

    def value(self, metrics: dict[str, float]) -> float | None:
        """The compared quantity, or None when a metric it needs was not recorded."""
        if self.lowest_of:
            found = [metrics[m] for m in (self.metric, *self.lowest_of) if m in metrics]
            return min(found) if found else None
        needed = [m for m in (self.metric, self.per, self.minus) if m]
        if any(m not in metrics for m in needed):
            return None
        value = metrics[self.metric]
        if self.per:
            value /= metrics[self.per]
        if self.minus:
            value -= metrics[self.minus]
        return value

    def met(self, metrics: dict[str, float]) -> bool:
        """Whether the target holds (a missing metric counts as a miss)."""
        value = self.value(metrics)
        return value is not None and _OPS[self.op](value, self.bound)

    @property
    def split(self) -> str:
        """Which split the target is judged on (validation targets guide designs; test ones only report)."""
        return split_of(self.metric)

    @property
    def quantity(self) -> str:
        if self.lowest_of:
            return f"min({', '.join((self.metric, *self.lowest_of))})"
        return self.metric + (f" / {self.per}" if self.per else "") + (f" - {self.minus}" if self.minus else "")


def _time_target(nb: str) -> Target:
    return Target(f"full mode ≤ {FULL_MODE_SECONDS // 60} min", f"nb{nb[:2]}.wall_s", "<=", FULL_MODE_SECONDS)


TARGETS: dict[str, list[Target]] = {
    "01_autoencoder_basics": [
        *(Target(f"AE/PCA validation MSE at L={k}", f"nb01.ae_pca_ratio_L{k}_val", "<=", bound)
          for k, bound in ((2, 0.55), (32, 0.60), (64, 0.75))),
        _time_target("01_autoencoder_basics"),
    ],
    "02_convolutional_autoencoders": [
        Target("conv AE/PCA validation MSE at L=64", "nb02.conv_pca_ratio_L64_val", "<=", 0.70),
        _time_target("02_convolutional_autoencoders"),
    ],
    "03_denoising_autoencoders": [
        Target("DAE − best classical validation PSNR at σ=0.3 (dB)", "nb03.psnr_dae_s03_val", ">=", 5.0,
               minus="nb03.psnr_classical_best_s03_val"),
        *(Target(f"DAE − best classical validation PSNR, {level} (dB)", f"nb03.psnr_dae_{key}_val", ">", 0.0,
                 minus=f"nb03.psnr_classical_best_{key}_val")
          for key, level in (("s01", "σ=0.1"), ("s05", "σ=0.5"))),
        # masking: the blind DAE against the blind filters; with the observed pixels kept (the mask used on its
        # output only, a conservative comparison) against inpainting, which is told the mask
        Target("DAE − best filter validation PSNR, masking (dB)", "nb03.psnr_dae_mask_val", ">", 0.0,
               minus="nb03.psnr_filter_best_mask_val"),
        Target("DAE, observed pixels kept − inpainting told the mask, validation PSNR (dB)",
               "nb03.psnr_dae_mask_told_val", ">", 0.0, minus="nb03.psnr_inpainting_mask_val"),
        _time_target("03_denoising_autoencoders"),
    ],
    "04_sparse_and_contractive_autoencoders": [
        Target("fine-tuned − from scratch, 100 labels/class, validation accuracy", "nb04.acc_100labels_finetuned_val",
               ">=", 0.03, minus="nb04.acc_100labels_scratch_val"),
        Target("CAE/AE random-direction gain", "nb04.sensitivity_cae", "<=", 0.5, per="nb04.sensitivity_ae"),
        Target("CAE/AE validation MSE, mean over seeds", "nb04.recon_mse_cae_val", "<=", 1.10,
               per="nb04.recon_mse_ae_val"),
        Target("KL mean activation ≥ 0.8 ρ", "nb04.mean_activation_kl", ">=", 0.04),
        Target("KL mean activation ≤ 1.2 ρ", "nb04.mean_activation_kl", "<=", 0.06),
        _time_target("04_sparse_and_contractive_autoencoders"),
    ],
    "05_anomaly_detection": [
        Target("declared AE score, mean held-out validation AUROC", "nb05.auroc_mean_best_val", ">=", 0.94),
        *(Target(f"declared AE score − tuned {name}, mean held-out validation AUROC", "nb05.auroc_mean_best_val", ">",
                 0.0, minus=f"nb05.auroc_mean_{k}_chosen_val")
          for k, name in (("pca", "PCA"), ("iforest", "IsolationForest"), ("ocsvm", "OneClassSVM"))),
        Target("test false-alarm rate ≥ planned 0.05 − 0.015", "nb05.false_alarm_at_threshold", ">=", 0.035),
        Target("test false-alarm rate ≤ planned 0.05 + 0.015", "nb05.false_alarm_at_threshold", "<=", 0.065),
        _time_target("05_anomaly_detection"),
    ],
    "06_variational_autoencoders": [
        Target("dense L=2 VAE − keras.io VAE (same wall time), validation −ELBO (nats)", "nb06.neg_elbo_L2_val", "<",
               0.0, minus="nb06.neg_elbo_kerasio_L2_val"),
        Target("dense L=2 VAE − keras.io VAE (same wall time), validation IW bound (nats)", "nb06.iw_nll_L2_val", "<",
               0.0, minus="nb06.iw_nll_kerasio_L2_val"),
        Target("headline VAE: IW bound (k=100) below its one-sample −ELBO, test (nats)", "nb06.iw_nll_test", "<", 0.0,
               minus="nb06.neg_elbo_test"),
        Target("VAE prior samples / AE + one Gaussian, Fréchet distance (samples vs training images)",
               "nb06.fd_vae_prior", "<", 1.0, per="nb06.fd_ae_gaussian"),
        Target("VAE prior samples cover ≥ 9 of 10 classes", "nb06.coverage_vae_prior", ">=", 9),
        _time_target("06_variational_autoencoders"),
    ],
    "07_exploring_the_latent_space": [
        Target("autoregressive − factorised validation −ELBO at L=2 (nats)", "nb07.neg_elbo_val_L2_autoregressive",
               "<", 0.0, minus="nb07.neg_elbo_val_L2_factorised"),
        Target("conv VAE L=16 prior samples: classes covered (of 10)", "nb07.prior_coverage", ">=", 9),
        _time_target("07_exploring_the_latent_space"),
    ],
    "08_compression": [
        *(Target(f"AE − JPEG scan at JPEG quality {q}'s bytes, validation PSNR (dB)", f"nb08.gain_jpeg_scan_q{q}_val",
                 ">=", 3.0) for q in (1, 5)),
        Target("AE − JPEG scan at every JPEG setting below 100 bytes, validation PSNR (dB)",
               "nb08.min_gain_jpeg_scan_below100_val", ">", 0.0),
        Target("AE − JPEG scan (optimised tables) at the same settings, validation PSNR (dB)",
               "nb08.min_gain_jpeg_optscan_below100_val", ">", 0.0),
        Target("AE − PCA (same quantiser and coder) at every AE rate point inside PCA's range, validation PSNR (dB)",
               "nb08.min_gain_pca_val", ">", 0.0),
        Target("round trip bit-exact (mismatched pixels)", "nb08.roundtrip_mismatched_pixels", "<=", 0),
        _time_target("08_compression"),
    ],
    "09_conditional_and_vector_quantized_autoencoders": [
        Target("conditional VAE: class-swapped decodes labelled as asked, validation", "nb09.swap_acc_val", ">=", 0.85),
        Target("VQ-VAE with the dead-code fix: share of codes used, validation", "nb09.codes_used_fix_val", ">=", 0.90),
        Target("VQ-VAE + PixelCNN / conv VAE prior samples, Fréchet distance (samples vs training images)",
               "nb09.fd_vq_prior", "<", 1.0, per="nb09.fd_vae_prior"),
        _time_target("09_conditional_and_vector_quantized_autoencoders"),
    ],
    "10_latent_diffusion": [
        Target("latent diffusion / VAE prior N(0, I), validation Fréchet distance (same decoder)",
               "nb10.fd_diffusion_val", "<=", 0.5, per="nb10.fd_prior_val"),
        Target("latent diffusion − VAE prior, validation recall", "nb10.recall_diffusion_val", ">=", 0.0,
               minus="nb10.recall_prior_val"),
        _time_target("10_latent_diffusion"),
    ],
    "11_molecules": [
        Target("SELFIES VAE prior samples: validity", "nb11.selfies_validity", ">=", 0.99),
        Target("SELFIES VAE prior samples: uniqueness", "nb11.selfies_uniqueness", ">=", 0.95),
        Target("SELFIES VAE prior samples: novelty", "nb11.selfies_novelty", ">=", 0.8),
        Target("latent optimisation, gradient steps on a code→QED regressor: mean QED gain of decoded valid "
               "molecules (validation)", "nb11.qed_gain_val", ">=", 0.1),
        Target("latent optimisation, local search guided by RDKit's QED: mean QED gain of decoded valid molecules "
               "(validation)", "nb11.qed_gain_search_val", ">=", 0.1),
        _time_target("11_molecules"),
    ],
    "A1_training_on_many_devices": [
        Target("2-replica step = 1-device step (relative gap)", "nbA1.step_gap_relative", "<=", 1e-4),
        Target("unscaled loss: 2-replica step ≥ 1.99 × 1-device step", "nbA1.unscaled_step_ratio_2", ">=", 1.99),
        Target("unscaled loss: 2-replica step ≤ 2.01 × 1-device step", "nbA1.unscaled_step_ratio_2", "<=", 2.01),
        *(Target(f"2 replicas − 1 device, validation −ELBO {op} {bound:+g} nat", "nbA1.neg_elbo_two_replicas_val", op,
                 bound, minus="nbA1.neg_elbo_one_device_val") for op, bound in (("<=", 1.0), (">=", -1.0))),
        _time_target("A1_training_on_many_devices"),
    ],
}
