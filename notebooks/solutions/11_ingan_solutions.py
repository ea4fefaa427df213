"""Solutions to the exercises of lesson 11 (run: python notebooks/solutions/11_ingan_solutions.py [ITERATIONS]).

1. The identity term: train a tiny InGAN with and without L_id and compare how well G(x; I) gives the photo back.
   Answer: with L_id the error |G(x; I) - x| falls much faster. Without it the photo reaches G only through the
   cycle G(G(x; T); T^-1), two passes through an untrained network whose errors compound, and through the
   discriminator, which judges patches, not positions; L_id asks for the photo directly, every step.
2. What the patch distance sees: add Gaussian noise of growing strength to the photo; the distance must grow.
   Answer: it grows with sigma, monotonically: noise moves every patch away from the photo's patch distribution,
   the more the stronger it is, and the sliced Wasserstein distance measures exactly that shift of distributions.
3. Your own homography: a keystone (the top edge shrunk) at half height and 3/4 width, with the shipped checkpoint,
   next to OpenCV's bicubic warpPerspective; both distances are printed (2 pyramid levels: the output is small).
"""
from __future__ import annotations

import sys

import numpy as np

from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import (InGAN, InGANTrainer, bicubic_warp, get_ingan_config, homography_from_corners,
                                   patch_distance, prepare_image)

PHOTO = data_dir() / "images" / "plasma_colorful_cups.jpg"


def main(iterations: int = 120) -> dict:
    # exercise 1: L_id on (weight 1) vs off, same seed, same photo (32 px), same number of iterations
    errors = {}
    for weight in (0.0, 1.0):
        trainer = InGANTrainer(get_ingan_config("tiny", iterations=iterations, lambda_identity=weight, progress=False,
                                                device="cpu"), PHOTO, verbose=False)
        if weight == 0.0:
            errors["untrained"] = InGAN(trainer.G, trainer.image).reconstruction_error()
        errors[weight] = trainer.fit().model.reconstruction_error()
    print(f"exercise 1: |G(x; I) - x| untrained {errors['untrained']:.3f}, after {iterations} iterations without "
          f"L_id {errors[0.0]:.3f}, with L_id {errors[1.0]:.3f}")

    # exercise 2: noise of growing strength -> a growing patch distance
    img = prepare_image(PHOTO, 64)
    rng = np.random.default_rng(0)
    noise = (0.05, 0.1, 0.2, 0.4)
    dist = [patch_distance(img, np.clip(img + rng.normal(0, s, img.shape), 0, 1).astype(np.float32)).mean
            for s in noise]
    print("exercise 2: noise sigma -> patch distance:", ", ".join(f"{s} -> {d:.4f}" for s, d in zip(noise, dist)))

    # exercise 3: a keystone with the shipped model, and the same warp done by OpenCV
    model = InGAN.load(data_dir() / "checkpoints" / "ingan_plasma_colorful_cups.pt", device="cpu")
    h, w = model.input_size
    keystone = homography_from_corners([[-0.6, -1], [0.6, -1], [1, 1], [-1, 1]])
    size = (h // 2, 3 * w // 4)
    ours, cv = model.retarget(size, keystone), bicubic_warp(model.image, keystone, size)
    print(f"exercise 3: keystone at {size[0]}x{size[1]}: InGAN {ours.shape}, patch distance InGAN "
          f"{patch_distance(model.image, ours, levels=2).mean:.4f} vs warped bicubic "
          f"{patch_distance(model.image, cv, levels=2).mean:.4f}")
    return {"untrained_identity_error": errors["untrained"], "identity_error": errors[1.0],
            "no_identity_error": errors[0.0], "patch_size_order": dist, "homography_shape": ours.shape}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 120)
