"""imugait: wearable IMU gait sensing — hip rotation and knee tracking for every gait cycle."""

__version__ = "0.1.0"
